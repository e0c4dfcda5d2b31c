package mongoauth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The read path decision, from timings given rather than measured: tests
// must not depend on this machine's speed.

func ms(v ...float64) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, x := range v {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

func TestChooseByTimings(t *testing.T) {
	for _, tc := range []struct {
		name             string
		lookup, twoReads []time.Duration
		stored           bool
		want             ReadPath
		reason           []string
	}{
		{"DocumentDB: each aggregate waits for the one before", ms(55, 58, 61, 56), ms(1.4, 1.5, 1.3, 1.4, 2.4, 1.6, 1.4), true, ReadPathTwoReads,
			[]string{"calibrated", "$lookup 58 ms", "two finds 1.4 ms", "medians of 4 and 7 consecutive reads of a stored session", ": two finds"}},
		{"MongoDB, one round trip each", ms(0.31, 0.29, 0.35), ms(0.52, 0.50, 0.61), false, ReadPathLookup,
			[]string{"$lookup 0.31 ms", "two finds 0.52 ms", "of ids no document has", ": $lookup"}},
		{"a remote server: round trips dominate", ms(41, 40, 44, 40), ms(81, 80, 83, 82), true, ReadPathLookup, nil},
		{"$lookup a little slower than two finds: one command is worth it", ms(1.05, 1.08, 1.05), ms(1.0, 1.0, 1.1), true, ReadPathLookup, nil},
		{"$lookup 20% slower: auto would miss 0.9× the faster path", ms(1.2, 1.2, 1.2), ms(1.0, 1.0, 1.0), true, ReadPathTwoReads, nil},
		{"one outlier does not decide", ms(9, 0.3, 0.3, 0.3, 9), ms(0.5, 0.5, 9, 0.5, 0.5), true, ReadPathLookup, nil},
		{"$lookup so slow that few fit in the budget", ms(300, 300), ms(10, 10, 10), true, ReadPathTwoReads, []string{"few fit in 250ms", ": two finds"}},
		{"a slow link: few of either fit", ms(120), ms(240), true, ReadPathLookup, []string{"few fit", ": $lookup"}},
		{"no timings", nil, ms(1), true, ReadPathLookup, []string{"no timings: kept $lookup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := chooseByTimings(tc.lookup, tc.twoReads, tc.stored)
			assert.Equal(t, tc.want, c.Path)
			assert.Equal(t, tc.stored, c.Stored)
			for _, want := range tc.reason {
				assert.Contains(t, c.Reason, want)
			}
		})
	}
}

// fakeMeasure plays a server: each read costs its path's base time, plus
// whatever the previous read left its connection busy with (after).
type fakeMeasure struct {
	base, after map[ReadPath]time.Duration
	busy        time.Duration
	asked       []ReadPath
	fail        error
}

func (f *fakeMeasure) measure(_ context.Context, p ReadPath) (time.Duration, error) {
	f.asked = append(f.asked, p)
	if f.fail != nil && len(f.asked) == 3 {
		return 0, f.fail
	}
	d := f.busy + f.base[p]
	f.busy = f.after[p]
	return d, nil
}

func TestCalibrate(t *testing.T) {
	t.Run("consecutive reads per path: an aggregate's after-cost stays with $lookup", func(t *testing.T) {
		// DocumentDB: the aggregate answers in 5 ms and keeps its
		// connection 50 ms more; alternating reads would bill those 50 ms to
		// the two finds.
		f := &fakeMeasure{
			base:  map[ReadPath]time.Duration{ReadPathLookup: 5 * time.Millisecond, ReadPathTwoReads: 2 * time.Millisecond},
			after: map[ReadPath]time.Duration{ReadPathLookup: 50 * time.Millisecond},
		}
		lookup, twoReads, err := calibrate(t.Context(), f.measure)
		require.NoError(t, err)
		assert.Equal(t, ms(55, 55, 55, 55, 55), lookup, "a read that does not count (5 ms), then as many as the budget holds")
		assert.Equal(t, ms(2, 2, 2, 2, 2, 2, 2), twoReads, "the first read paid the aggregate's 50 ms and does not count")
		assert.Equal(t, []ReadPath{ReadPathLookup, ReadPathLookup, ReadPathLookup, ReadPathLookup, ReadPathLookup, ReadPathLookup}, f.asked[:6], "consecutive")
		assert.Equal(t, ReadPathTwoReads, chooseByTimings(lookup, twoReads, true).Path)
	})
	t.Run("a fast aggregate keeps $lookup", func(t *testing.T) {
		f := &fakeMeasure{base: map[ReadPath]time.Duration{ReadPathLookup: time.Millisecond, ReadPathTwoReads: 2 * time.Millisecond}}
		lookup, twoReads, err := calibrate(t.Context(), f.measure)
		require.NoError(t, err)
		assert.Len(t, lookup, calibrationSamples)
		assert.Len(t, twoReads, calibrationSamples)
		assert.Equal(t, ReadPathLookup, chooseByTimings(lookup, twoReads, true).Path)
	})
	t.Run("slow server: each path stops at its budget, after one read at least", func(t *testing.T) {
		f := &fakeMeasure{base: map[ReadPath]time.Duration{ReadPathLookup: 100 * time.Millisecond, ReadPathTwoReads: 300 * time.Millisecond}}
		lookup, twoReads, err := calibrate(t.Context(), f.measure)
		require.NoError(t, err)
		assert.Len(t, lookup, 2, "100 ms not counted, 200, then the budget")
		assert.Len(t, twoReads, 1, "300 ms not counted, beyond the budget, and one read all the same")
		var spent time.Duration
		for _, p := range f.asked {
			spent += f.base[p]
		}
		assert.Equal(t, 900*time.Millisecond, spent, "$lookup 3 × 100 ms (one not counted), two finds 2 × 300 ms")
	})
	t.Run("a failed read fails the calibration", func(t *testing.T) {
		boom := errors.New("boom")
		f := &fakeMeasure{base: map[ReadPath]time.Duration{ReadPathLookup: time.Millisecond, ReadPathTwoReads: time.Millisecond}, fail: boom}
		_, _, err := calibrate(t.Context(), f.measure)
		require.ErrorIs(t, err, boom)
	})
}
