// Package bench measures the cost of the adapter's operations: commands
// sent per operation, time and allocations, each next to the raw driver
// doing the minimal equivalent, plus the password hashes Lucia uses.
//
// The cases are defined once, in this package, and run two ways: as `go test -bench`
// benchmarks (bench_test.go) and through testing.Benchmark by
// cmd/authbench, which prints them as a table with ratios:
//
//	go run ./cmd/authbench                              // the tables and the targets, ~4 min
//	MONGODB_URI='mongodb://...' go run ./cmd/authbench  // against your own server ($lookup, transactions)
//	go test -run '^$' -bench . ./bench                  // the same cases in go test format
//	go test ./bench                                     // asserts the command counts (deterministic)
//
// Session validation runs on every request, so its cost is the product's
// cost.
//
// # Method
//
// Commands per operation are counted by an event.CommandMonitor on the
// client that carries the measured call only; fixtures and per-iteration
// setup go through a second, unmonitored client. Time, B/op and allocs/op
// come from testing.Benchmark (the table and go test -bench share one
// definition per case, operations.go); the server runs in a child process so
// that its allocations do not count. Each case runs next to a fresh run of
// its baseline, alternating order, 7 times; the table shows medians, and each
// ratio is the median of the ratios within those pairs, with their range.
//
// Baselines are the floor: raw-find-one is FindOne({_id}).Raw() (the adapter
// decodes bson.Raw too; decoding into a struct, raw-find-one-struct, would
// flatter it), raw-insert-one inserts the session document SetSession
// writes, without a check, and raw-find-by-user iterates Find({user_id}).
// The rows that compare the raw driver with itself show the noise floor. One
// client goroutine, so ops/s is 1 / latency. The core-* rows run the auth
// core (auth.New) with the fast test hasher; the other rows call the adapter
// as the core does (use-key there is GetKey then GetUser).
//
// authbench prints the read path and New's reason above its table and marks
// the rows that take it; every measured adapter uses the path chosen once at
// the start of the run, or the one -read-path forces (lookup, two-reads), so
// that a run with each shows what auto gains or loses on a server. Absolute numbers are noisy on a shared machine; the
// ratios within one run are what the targets compare.
//
// # Targets
//
// authbench checks these on every run; go test ./bench checks the counts:
//
//   - validate-with-user: 1 command on the $lookup path, 2 on two reads;
//     the core's ValidateSession (core-validate-session) as many as its
//     ValidateSessionUser, since it reads the user too (an orphan session is
//     refused).
//   - Session token hashing (hash-session-token-sha256, in the hash table:
//     the SHA-256 the core computes before every lookup) under 5 % of
//     core-validate-session-user's time; core-validate-session-user-unhashed
//     (auth.Config.LuciaV1, ids stored as the token) shows the same
//     difference as a ratio, within the noise.
//   - Creating a session: at most 2 commands, independent of the user's
//     session count.
//   - Session attributes: creating and validating cost the commands they cost
//     without; a due last-seen update, one more.
//   - Deleting a user: constant commands whatever the session count (3 on
//     the standalone protocol). With transactions, 6 (user and keys, the
//     commit, a find and a delete per batch of 1,000 sessions after it, the
//     keys again), one find more for each full batch: expected, but not
//     measured on FerretDB.
//   - One-command operations: at least 0.9× the raw driver's ops/s and at
//     most 1.5× its B/op. core-use-key is one command but verifies a
//     password, so it is not held to this target (hashing has its own rows).
//
// The session-attribute rows carry the example app's four attributes
// (browser, system, created, last seen); reading a session without
// attributes allocates what it did before session attributes existed
// (get-session, measured before and after: about 7,600 B/op and 81–83
// allocs both times).
//
// Password hashes are measured by hashes per second and B/op, which is taken
// as peak memory per hash (not so for the session token's SHA-256, which
// holds a few hundred bytes): each hash allocates its working memory in one
// piece that stays live until it returns.
//
// On FerretDB's SQLite backend the user_id index is created but not used for
// queries, so listing a user's sessions or deleting a user scans the whole
// sessions collection (about 2 s with 100,000 sessions, raw driver and
// adapter alike); MongoDB uses the index.
package bench
