package mongoauth_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/mongotest"
)

// BenchmarkCheck measures one Check over 1,000 users with 10 sessions and
// 2 keys each (a tenth of them orphans); ns/op is the time for the whole
// store.
func BenchmarkCheck(b *testing.B) {
	db := mongotest.Database(b)
	c := b.Context()
	var users, sessions, keys []any
	for u := range 1000 {
		id := fmt.Sprintf("u%d", u)
		if u%10 != 0 {
			users = append(users, bson.D{{Key: "_id", Value: id}})
		}
		for s := range 10 {
			sessions = append(sessions, session(fmt.Sprintf("s%d-%d", u, s), id, future))
		}
		keys = append(keys, key("email:"+id, id, true, nil), key("otp:"+id, id, false, future))
	}
	for coll, docs := range map[string][]any{"auth_user": users, "auth_session": sessions, "auth_key": keys} {
		_, err := db.Collection(coll).InsertMany(c, docs)
		require.NoError(b, err)
	}
	a, err := mongoauth.New(c, db, mongoauth.Options{})
	require.NoError(b, err)
	_, err = a.EnsureIndexes(c)
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		r, err := a.Check(c, mongoauth.RepairOptions{})
		require.NoError(b, err)
		require.Equal(b, 1000, r.OrphanSessions.Found)
	}
}
