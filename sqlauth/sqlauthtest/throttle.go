package sqlauthtest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/throttletest"
	"github.com/luciago/mongoauth/sqlauth"
)

var throttleOptions = sqlauth.Options{ThrottleTable: sqlauth.DefaultThrottleTable}

// throttleStores opens n adapters over one fresh store, as n instances of
// an application would, with the throttle table created, and returns
// their throttle stores.
func (d Database) throttleStores(t *testing.T, n int) ([]auth.ThrottleStore, Store) {
	t.Helper()
	store := d.NewStore(t)
	var stores []auth.ThrottleStore
	for i := range n {
		a, err := d.New(Context(t), store.DB, throttleOptions)
		require.NoError(t, err)
		if i == 0 {
			require.NoError(t, a.CreateTables(Context(t)))
		}
		s, err := a.ThrottleStore()
		require.NoError(t, err)
		stores = append(stores, s)
	}
	return stores, store
}

// ThrottleRun runs the throttle store's conformance suite (auth/
// throttletest, with several adapters sharing the table) and the tests of
// its table.
func ThrottleRun(t *testing.T, d Database) {
	t.Run("Conformance", func(t *testing.T) {
		throttletest.RunShared(t, func(t *testing.T, n int) []auth.ThrottleStore {
			stores, _ := d.throttleStores(t, n)
			return stores
		})
	})
	t.Run("NeedsItsTable", func(t *testing.T) {
		t.Parallel()
		a, _ := d.Open(t, sqlauth.Options{})
		_, err := a.ThrottleStore()
		require.ErrorContains(t, err, "ThrottleTable")
		_, err = d.New(Context(t), d.NewStore(t).DB, sqlauth.Options{ThrottleTable: sqlauth.DefaultKeyTable})
		require.Error(t, err, "the throttle table must be a fourth one")
	})
	t.Run("HealedRowsAreDeleted", func(t *testing.T) {
		t.Parallel()
		stores, store := d.throttleStores(t, 1)
		s := stores[0].(*sqlauth.ThrottleStore)
		ctx := Context(t)
		now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		for i, k := range []string{"key:username:ann", "client:203.0.113.7", "key:username:bob"} {
			_, _, err := s.Update(ctx, k, auth.ThrottleUpdate{Now: now, Cost: time.Duration(i+1) * time.Hour, Limit: 10 * time.Hour})
			require.NoError(t, err)
		}
		n, err := s.DeleteHealed(ctx, now.Add(2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, "the two records without debt two hours on")
		var left int
		require.NoError(t, store.DB.QueryRowContext(ctx, "SELECT count(*) FROM auth_throttle").Scan(&left))
		assert.Equal(t, 1, left)
		until, _, err := s.Update(ctx, "key:username:ann", auth.ThrottleUpdate{Now: now.Add(2 * time.Hour), Cost: time.Hour, Limit: 10 * time.Hour})
		require.NoError(t, err)
		assert.True(t, now.Add(3*time.Hour).Equal(until), "a deleted record starts afresh")
	})
	t.Run("CreateTablesIsIdempotent", func(t *testing.T) {
		t.Parallel()
		a, _ := d.Open(t, throttleOptions)
		require.NoError(t, a.CreateTables(Context(t)), "again")
	})
}
