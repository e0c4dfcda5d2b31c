package mongoauth_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

type loadProfile struct {
	Username string `auth:"username"`
}

// TestLoad runs workers doing mixed sign-up, login, validate, logout and
// delete-user against one store, with deliberately colliding usernames and
// users deleted while others log into them, then checks invariants over the
// whole database. It is skipped under -short; CI runs it.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: skipped under -short")
	}
	const workers, opsPerWorker, usernames = 8, 60, 40
	adapter, db := newAdapter(t, mongoauth.Options{})
	a, err := auth.New[loadProfile](adapter, auth.Config{
		PasswordHasher: auth.InsecureFastHasher(),
		// The first login measures Lucia's scrypt formats, seconds under
		// -race, while the others wait; this test is not about that bound.
		MaxHashWait: time.Minute,
		// Logins to usernames that do not exist (yet, or any more) are
		// failures; a name that meets more than the free ones is throttled.
		// This test is about storage invariants, not that policy.
		KeyThrottle: auth.ThrottlePolicy{Disabled: true},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// The pool is what workers know about: users that signed up and
	// sessions that logged in. It may be stale; that is the point.
	var pool struct {
		sync.Mutex
		users    []string
		sessions []string
	}
	pick := func(list *[]string, remove bool) (string, bool) {
		pool.Lock()
		defer pool.Unlock()
		if len(*list) == 0 {
			return "", false
		}
		i := rand.IntN(len(*list))
		v := (*list)[i]
		if remove {
			(*list)[i] = (*list)[len(*list)-1]
			*list = (*list)[:len(*list)-1]
		}
		return v, true
	}
	add := func(list *[]string, v string) {
		pool.Lock()
		*list = append(*list, v)
		pool.Unlock()
	}

	// expected lists the errors each operation may meet because of a
	// concurrent operation; anything else fails the test.
	ops := []struct {
		name     string
		expected []error
		run      func(ctx context.Context) error
	}{
		{"sign up", []error{auth.ErrDuplicateKeyID}, func(ctx context.Context) error {
			name := fmt.Sprintf("user%d", rand.IntN(usernames))
			u, err := a.CreateUser(ctx, loadProfile{Username: name}, &auth.KeyParams{ProviderID: "username", ProviderUserID: name, Password: "pw-" + name})
			if err == nil {
				add(&pool.users, u.ID)
			}
			return err
		}},
		{"log in", []error{auth.ErrInvalidKeyID, auth.ErrInvalidUserID}, func(ctx context.Context) error {
			name := fmt.Sprintf("user%d", rand.IntN(usernames))
			key, err := a.UseKey(ctx, "username", name, "pw-"+name)
			if err != nil {
				return err
			}
			s, err := a.CreateSession(ctx, key.UserID)
			if err == nil {
				add(&pool.sessions, s.Token)
			}
			return err
		}},
		{"validate", []error{auth.ErrInvalidSessionID}, func(ctx context.Context) error {
			id, ok := pick(&pool.sessions, false)
			if !ok {
				return nil
			}
			_, _, err := a.ValidateSessionUser(ctx, id)
			return err
		}},
		{"log out", nil, func(ctx context.Context) error {
			id, ok := pick(&pool.sessions, true)
			if !ok {
				return nil
			}
			return a.InvalidateSession(ctx, id)
		}},
		{"delete user", nil, func(ctx context.Context) error {
			id, ok := pick(&pool.users, true)
			if !ok {
				return nil
			}
			return a.DeleteUser(ctx, id)
		}},
	}
	weights := []int{3, 4, 6, 2, 1} // per op: a read-heavy mix

	var wg sync.WaitGroup
	counts := make([][]int, workers)
	for w := range workers {
		counts[w] = make([]int, len(ops))
		wg.Go(func() {
			for range opsPerWorker {
				i := weightedPick(weights)
				op := ops[i]
				err := func() (err error) {
					defer func() {
						if r := recover(); r != nil {
							err = fmt.Errorf("panic: %v", r)
						}
					}()
					return op.run(ctx)
				}()
				counts[w][i]++
				if err != nil && !matchesAny(err, op.expected) {
					t.Errorf("%s: unexpected error: %v", op.name, err)
				}
			}
		})
	}
	wg.Wait()
	total := make([]int, len(ops))
	for _, c := range counts {
		for i, n := range c {
			total[i] += n
		}
	}
	for i, op := range ops {
		t.Logf("%-11s %d", op.name, total[i])
	}
	checkStoreInvariants(t, ctx, db)
}

func weightedPick(weights []int) int {
	sum := 0
	for _, w := range weights {
		sum += w
	}
	n := rand.IntN(sum)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func matchesAny(err error, targets []error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// checkStoreInvariants scans the raw collections, independently of the
// adapter's own code: every session and key belongs to an existing user,
// and every user has its primary username key (no half-created user).
func checkStoreInvariants(t *testing.T, ctx context.Context, db *mongo.Database) {
	t.Helper()
	users := map[string]bool{}
	for _, doc := range allDocs(t, ctx, db.Collection(mongoauth.DefaultUserCollection)) {
		users[doc.Lookup("_id").StringValue()] = true
	}
	withPrimaryKey := map[string]bool{}
	for _, doc := range allDocs(t, ctx, db.Collection(mongoauth.DefaultKeyCollection)) {
		owner := doc.Lookup("user_id").StringValue()
		assert.True(t, users[owner], "key %s belongs to missing user %s", doc.Lookup("_id"), owner)
		if doc.Lookup("primary_key").Boolean() {
			withPrimaryKey[owner] = true
		}
	}
	sessions := allDocs(t, ctx, db.Collection(mongoauth.DefaultSessionCollection))
	for _, doc := range sessions {
		owner := doc.Lookup("user_id").StringValue()
		assert.True(t, users[owner], "a session belongs to missing user %s", owner)
	}
	for id := range users {
		assert.True(t, withPrimaryKey[id], "user %s has no primary key", id)
	}
	t.Logf("after the run: %d users, %d sessions, invariants checked", len(users), len(sessions))
}

func allDocs(t *testing.T, ctx context.Context, coll *mongo.Collection) []bson.Raw {
	t.Helper()
	cur, err := coll.Find(ctx, bson.D{})
	require.NoError(t, err)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	require.NoError(t, cur.Err())
	return out
}
