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
		want             ReadPath
		reason           []string
	}{
		{"FerretDB v2 on DocumentDB: a flat 6 ms aggregate", ms(6.1, 5.9, 6.3, 6.0, 6.2), ms(1.4, 1.5, 1.3, 1.4, 1.6), ReadPathTwoReads,
			[]string{"calibrated", "$lookup 6.1 ms", "two finds 1.4 ms", "medians of 5 rounds", "two finds"}},
		{"MongoDB, one round trip each", ms(0.31, 0.29, 0.35), ms(0.52, 0.50, 0.61), ReadPathLookup,
			[]string{"$lookup 0.31 ms", "two finds 0.52 ms", ": $lookup"}},
		{"a remote server: round trips dominate", ms(41, 40, 44, 40), ms(81, 80, 83, 82), ReadPathLookup, nil},
		{"$lookup a little slower than two finds: not worth two commands", ms(1.2, 1.3, 1.2), ms(1.0, 1.0, 1.1), ReadPathLookup, nil},
		{"one outlier does not decide", ms(9, 0.3, 0.3, 0.3, 9), ms(0.5, 0.5, 9, 0.5, 0.5), ReadPathLookup, nil},
		{"too few rounds within the budget", ms(300, 300), ms(10, 10), ReadPathLookup, []string{"calibration incomplete", "kept $lookup"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, reason := chooseByTimings(tc.lookup, tc.twoReads)
			assert.Equal(t, tc.want, path)
			for _, want := range tc.reason {
				assert.Contains(t, reason, want)
			}
		})
	}
}

// fakeMeasure returns the given durations per path in turn and records
// the order it was asked in.
type fakeMeasure struct {
	next  map[ReadPath][]time.Duration
	asked []ReadPath
	fail  error
}

func (f *fakeMeasure) measure(_ context.Context, p ReadPath) (time.Duration, error) {
	f.asked = append(f.asked, p)
	if f.fail != nil && len(f.asked) == 3 {
		return 0, f.fail
	}
	d := f.next[p][0]
	if len(f.next[p]) > 1 {
		f.next[p] = f.next[p][1:]
	}
	return d, nil
}

func TestCalibrate(t *testing.T) {
	t.Run("fast server: all rounds, alternating order, warm-up not counted", func(t *testing.T) {
		f := &fakeMeasure{next: map[ReadPath][]time.Duration{
			ReadPathLookup:   ms(50, 6, 6, 6, 6, 6, 6, 6),
			ReadPathTwoReads: ms(50, 1.4),
		}}
		lookup, twoReads, err := calibrate(t.Context(), f.measure)
		require.NoError(t, err)
		assert.Len(t, lookup, calibrationRounds)
		assert.Len(t, twoReads, calibrationRounds)
		assert.Equal(t, ms(6), lookup[:1], "the warm-up's 50 ms is not a sample")
		assert.Equal(t, []ReadPath{ReadPathLookup, ReadPathTwoReads, ReadPathLookup, ReadPathTwoReads, ReadPathTwoReads, ReadPathLookup}, f.asked[:6])
	})
	t.Run("slow server: stops at the budget", func(t *testing.T) {
		f := &fakeMeasure{next: map[ReadPath][]time.Duration{ReadPathLookup: ms(100), ReadPathTwoReads: ms(200)}}
		lookup, _, err := calibrate(t.Context(), f.measure)
		require.NoError(t, err)
		assert.Less(t, len(lookup), minCalibrationRounds)
		var spent time.Duration
		for _, p := range f.asked {
			spent += f.next[p][0]
		}
		assert.Less(t, spent, calibrationBudget+300*time.Millisecond, "at most one round past the budget")
	})
	t.Run("a failed read fails the calibration", func(t *testing.T) {
		boom := errors.New("boom")
		f := &fakeMeasure{next: map[ReadPath][]time.Duration{ReadPathLookup: ms(1), ReadPathTwoReads: ms(1)}, fail: boom}
		_, _, err := calibrate(t.Context(), f.measure)
		require.ErrorIs(t, err, boom)
	})
}
