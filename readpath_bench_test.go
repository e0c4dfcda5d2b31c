package mongoauth_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// BenchmarkReadPathOnEngines reads a stored session with its user
// (GetSessionAndUser, as every validated request does) along each path on
// two engines the proxy plays over the embedded server: DocumentDB, whose
// $lookup aggregate keeps its connection busy 50 ms after its reply, and
// one whose aggregate is fast, against finds of 3 ms. Each iteration reads
// once with each of three adapters, each on a client of its own (an
// engine's after-cost stays on its connection), in turns: auto
// (ReadPathAuto, calibrated by New on the stored session), lookup and
// two-reads (forced). It reports each one's median time per read, and
// auto-vs-faster, the faster forced path's median over auto's: the
// target is at least 0.9. (ns/op is the three reads together.)
//
//	go test -run '^$' -bench ReadPathOnEngines -benchtime 3s .
func BenchmarkReadPathOnEngines(b *testing.B) {
	paths := []struct {
		name string
		opt  mongoauth.ReadPath
	}{{"auto", mongoauth.ReadPathAuto}, {"lookup", mongoauth.ReadPathLookup}, {"two-reads", mongoauth.ReadPathTwoReads}}
	for _, engine := range []struct {
		name string
		lookupEngine
	}{{"DocumentDB", documentDBLookup}, {"fast-lookup", fastLookup}} {
		b.Run(engine.name, func(b *testing.B) {
			proxy := startWireProxy(b)
			engine.install(b, proxy)
			name := scratchDatabase(b, proxy.client(b, "", nil)).Name()
			adapters := make([]*mongoauth.Adapter, len(paths))
			for i, p := range paths {
				db := proxy.client(b, "", nil).Database(name)
				if i == 0 {
					setup, err := mongoauth.New(ctx(b), db, mongoauth.Options{ReadPath: mongoauth.ReadPathTwoReads})
					require.NoError(b, err)
					_, err = setup.EnsureIndexes(ctx(b))
					require.NoError(b, err)
					require.NoError(b, setup.SetUser(ctx(b), auth.UserRecord{ID: "u", Attributes: map[string]any{"username": "ann"}}, nil))
					require.NoError(b, setup.SetSession(ctx(b), auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: future, IdleExpires: future}))
				}
				a, err := mongoauth.New(ctx(b), db, mongoauth.Options{ReadPath: p.opt})
				require.NoError(b, err)
				b.Logf("%s: %s (%s)", p.name, a.ReadPath(), a.ReadPathReason())
				adapters[i] = a
			}
			times := make([][]time.Duration, len(paths))
			round := 0
			for b.Loop() {
				for k := range adapters {
					i := (k + round) % len(adapters)
					start := time.Now()
					if _, _, err := adapters[i].GetSessionAndUser(b.Context(), "s"); err != nil {
						b.Fatal(err)
					}
					times[i] = append(times[i], time.Since(start))
				}
				round++
			}
			medians := make([]float64, len(paths))
			for i, p := range paths {
				medians[i] = float64(median(times[i]))
				b.ReportMetric(medians[i], p.name+"-ns/read")
			}
			b.ReportMetric(min(medians[1], medians[2])/medians[0], "auto-vs-faster")
		})
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[len(s)/2]
}
