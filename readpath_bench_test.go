package mongoauth_test

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/mongotest"
)

// BenchmarkReadPathOnEngines reads a stored session with its user
// (GetSessionAndUser, as every validated request does) along each path, on
// the embedded server itself and on two engines the proxy plays over it:
// DocumentDB, whose $lookup aggregate keeps its connection busy 50 ms after
// its reply, and one whose aggregate is fast, against finds of 3 ms. Each
// iteration is one read, by one of three adapters taking turns, each on a
// client of its own: auto (ReadPathAuto, calibrated by New on the stored session), lookup
// and two-reads (forced; lookup only where the server runs it). It reports
// each one's median time per read and auto-vs-faster, the faster forced
// path's median over auto's: the target is at least 0.9. (ns/op mixes the
// three.)
//
//	go test -run '^$' -bench ReadPathOnEngines -benchtime 3s .
func BenchmarkReadPathOnEngines(b *testing.B) {
	paths := []struct {
		name string
		opt  mongoauth.ReadPath
	}{{"auto", mongoauth.ReadPathAuto}, {"lookup", mongoauth.ReadPathLookup}, {"two-reads", mongoauth.ReadPathTwoReads}}
	for _, engine := range []struct {
		name   string
		engine *lookupEngine // nil: the embedded server as it is
	}{{"embedded", nil}, {"DocumentDB", &documentDBLookup}, {"fast-lookup", &fastLookup}} {
		b.Run(engine.name, func(b *testing.B) {
			client := func() *mongo.Client { return mongotest.Shared(b).Client }
			if engine.engine != nil {
				proxy := startWireProxy(b)
				engine.engine.install(b, proxy)
				client = func() *mongo.Client { return proxy.client(b, "", nil) }
			}
			name := scratchDatabase(b, client()).Name()
			setup, err := mongoauth.New(ctx(b), client().Database(name), mongoauth.Options{ReadPath: mongoauth.ReadPathTwoReads})
			require.NoError(b, err)
			_, err = setup.EnsureIndexes(ctx(b))
			require.NoError(b, err)
			require.NoError(b, setup.SetUser(ctx(b), auth.UserRecord{ID: "u", Attributes: map[string]any{"username": "ann"}}, nil))
			require.NoError(b, setup.SetSession(ctx(b), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
			adapters := make([]*mongoauth.Adapter, len(paths)) // nil: the server cannot run the path
			var turns []int                                    // the paths that run
			for i, p := range paths {
				a, err := mongoauth.New(ctx(b), client().Database(name), mongoauth.Options{ReadPath: p.opt})
				if errors.Is(err, mongoauth.ErrNoLookup) {
					b.Logf("%s: %v", p.name, err)
					continue
				}
				require.NoError(b, err)
				b.Logf("%s: %s (%s)", p.name, a.ReadPath(), a.ReadPathReason())
				adapters[i], turns = a, append(turns, i)
			}
			// The adapters take turns of consecutive reads (at least 8, for
			// at least 100 ms), as a stream of requests makes them, in an
			// order that shifts every cycle; the first read of a turn,
			// after the others', does not count.
			const minReads, minTime = 8, 100 * time.Millisecond
			times := make([][]time.Duration, len(paths))
			turn, reads, turnStart := 0, 0, time.Now()
			for b.Loop() {
				if reads >= minReads && time.Since(turnStart) >= minTime {
					turn, reads, turnStart = turn+1, 0, time.Now()
				}
				i := turns[(turn+turn/len(turns))%len(turns)]
				start := time.Now()
				if _, _, err := adapters[i].GetSessionAndUser(b.Context(), "s"); err != nil {
					b.Fatal(err)
				}
				if reads > 0 {
					times[i] = append(times[i], time.Since(start))
				}
				reads++
			}
			if slices.ContainsFunc(turns, func(i int) bool { return len(times[i]) == 0 }) {
				b.Skip("too few iterations for every path to take its turn: raise -benchtime")
			}
			faster := math.Inf(1)
			for i, p := range paths {
				if adapters[i] == nil {
					continue
				}
				m := float64(median(times[i]))
				b.ReportMetric(m, p.name+"-ns/read")
				if i > 0 {
					faster = min(faster, m)
				}
			}
			b.ReportMetric(faster/float64(median(times[0])), "auto-vs-faster")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}
