package interop_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/mongotest"
)

func TestMain(m *testing.M) { os.Exit(mongotest.Main(m)) }

// TestLuciaMongoose shares a MongoDB database between lucia-auth 1.8.0 on
// @lucia-auth/adapter-mongoose 2.0.0 (mongoose 7) and mongoauth.
func TestLuciaMongoose(t *testing.T) {
	t.Parallel()
	requireNode(t)
	db := mongotest.Database(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The Lucia application comes first, as in a migration. Its models
	// are those of Lucia's documentation, which mongoose stores in
	// collections named after their plurals.
	js := startLucia(t, "mongoose", "LUCIA_URI="+mongotest.Shared(t).URI, "LUCIA_DB="+db.Name())
	adapter, err := mongoauth.New(ctx, db, mongoauth.Options{
		UserCollection:    "auth_users",
		SessionCollection: "auth_sessions",
		KeyCollection:     "auth_keys",
	})
	require.NoError(t, err)
	_, err = adapter.EnsureIndexes(ctx)
	require.NoError(t, err)

	runScenarios(t, ctx, newSides(t, js, adapter))
}
