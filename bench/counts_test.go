package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/luciago/mongoauth/bench"
)

// TestCommandCounts runs every case a few times through the same loop as the
// benchmarks and checks the commands each operation sends. Counts are
// deterministic; times are not, and are not checked here.
func TestCommandCounts(t *testing.T) {
	e := sharedEnv(t)
	t.Logf("server: %s; $lookup: %v; transactions: %v", e.Server, e.Lookup, e.Transactions)
	validate := int64(2) // a find for the session, one for the user
	if e.Lookup {
		validate = 1 // one aggregate with $lookup
	}
	// An update of a throttle record: one findAndModify, or, where updates
	// are not atomic (FerretDB), four commands under a lock document (take
	// the lock, read, write, let go; three when refused: no write).
	throttle, refused := int64(1), int64(1)
	if e.ThrottleLocks {
		throttle, refused = 4, 3
	}
	// The multi-document writes: in a transaction the commit is a command
	// of its own, and DeleteUser deletes the user and its keys in it, then
	// the sessions in batches of 1,000 (find their ids, delete them) and
	// the keys once more.
	createUser, deleteUser, fullBatch := int64(2), int64(3), int64(0) // insert user, insert key; user, sessions, keys
	if e.Transactions {
		createUser, deleteUser, fullBatch = 3, 6, 1 // a batch of 1,000 is followed by a find that comes back empty
	}
	want := map[string]int64{
		bench.RawFindOne:               1,
		"raw-find-one-struct":          1,
		"raw-find-one-unmonitored":     0, // the setup client is not counted
		bench.RawInsertOne:             1,
		bench.RawFindByUser:            1,
		"validate-with-user":           validate,
		"get-session":                  1,
		"use-key":                      2, // key, then user
		"create-session-1-existing":    2, // insert, then check the user: never in a transaction
		"create-session-1000-existing": 2,
		// Session attributes: the same commands as without them.
		"create-session-with-attributes": 2,
		"validate-with-user-attributes":  validate,
		"create-user-with-key":           createUser,
		"delete-user-1-session":          deleteUser,
		"delete-user-10-sessions":        deleteUser,
		"delete-user-1000-sessions":      deleteUser + fullBatch,
		"delete-user-10-among-others":    deleteUser,
		"list-sessions":                  1,

		"core-validate-session-user": validate,
		// ValidateSession reads the user too: an orphan is refused.
		"core-validate-session":               validate,
		"core-validate-session-user-unhashed": validate,
		// A last-seen attribute costs nothing until it is due, then one
		// update.
		"core-validate-last-seen-not-due": validate,
		"core-validate-last-seen-due":     validate + 1,
		"core-use-key":                    1, // the key; a persistent key is not deleted
		// A shared throttle record: counted and taken back on success,
		// counted on failure, the refusal alone when refused.
		"core-use-key-shared-throttle":         1 + 2*throttle,
		"core-use-key-wrong-shared-throttle":   1 + throttle,
		"core-use-key-refused-shared-throttle": refused,
		"core-create-user-with-password":       createUser, // as create-user-with-key
	}
	// A small list fixture: the count does not depend on how many other
	// sessions the server scans, and the race detector slows the scan.
	cases := bench.Operations(bench.Config{OtherSessions: 1_000})
	const iterations = 3
	perOp := map[string]int64{}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			w, ok := want[c.Name]
			if !ok {
				t.Fatalf("no expected count for %s", c.Name)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			steps, err := c.Prepare(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if steps.Close != nil {
				defer func() {
					if err := steps.Close(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			r, err := steps.Loop(ctx, e, times(iterations), func() {}, func() {})
			if err != nil {
				t.Fatal(err)
			}
			if r.Iterations != iterations {
				t.Fatalf("ran %d iterations, want %d", r.Iterations, iterations)
			}
			if r.Commands%iterations != 0 {
				t.Fatalf("%d commands in %d iterations: not the same every time", r.Commands, iterations)
			}
			perOp[c.Name] = r.Commands / iterations
			if perOp[c.Name] != w {
				t.Errorf("%d commands per operation, want %d", perOp[c.Name], w)
			}
			t.Logf("%d commands per operation", perOp[c.Name])
		})
	}
	// The targets that compare cases: neither creating a session nor
	// deleting a user may cost more commands as the user has more
	// sessions (but for DeleteUser's batches after a transaction, one find
	// per 1,000 sessions), and session attributes add none to creating or
	// validating a session until a last-seen update is due.
	perOp["delete-user-1000-sessions"] -= fullBatch
	for _, group := range [][]string{
		{"create-session-1-existing", "create-session-1000-existing", "create-session-with-attributes"},
		{"validate-with-user", "validate-with-user-attributes", "core-validate-session-user", "core-validate-session", "core-validate-session-user-unhashed", "core-validate-last-seen-not-due"},
		{"delete-user-1-session", "delete-user-10-sessions", "delete-user-1000-sessions", "delete-user-10-among-others"},
	} {
		for _, name := range group[1:] {
			if perOp[name] != perOp[group[0]] {
				t.Errorf("%s sends %d commands, %s %d: the count grows with the sessions", name, perOp[name], group[0], perOp[group[0]])
			}
		}
	}
}

// times returns a loop condition that holds n times.
func times(n int) func() bool {
	return func() bool {
		n--
		return n >= 0
	}
}
