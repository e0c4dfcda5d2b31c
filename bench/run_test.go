package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// Loop must run Before and After only while paused, After once for every
// iteration (the last one after the loop), and stop at the first error.
func TestLoopOrder(t *testing.T) {
	var log []string
	paused := false
	note := func(step string, i int) error {
		if step != "op" && !paused {
			return fmt.Errorf("%s %d ran with the timer on", step, i)
		}
		if step == "op" && paused {
			return fmt.Errorf("op %d ran with the timer off", i)
		}
		log = append(log, fmt.Sprintf("%s%d", step, i))
		return nil
	}
	steps := &Steps{
		Before: func(_ context.Context, i int) error { return note("before", i) },
		Op:     func(_ context.Context, i int) error { return note("op", i) },
		After:  func(_ context.Context, i int) error { return note("after", i) },
	}
	n := 3
	next := func() bool { n--; return n >= 0 }
	pause := func() { paused = true }
	resume := func() { paused = false }
	r, err := steps.Loop(context.Background(), nil, next, pause, resume)
	if err != nil {
		t.Fatal(err)
	}
	if r.Iterations != 3 {
		t.Errorf("%d iterations, want 3", r.Iterations)
	}
	want := "before0 op0 after0 before1 op1 after1 before2 op2 after2"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("ran %s\nwant %s", got, want)
	}

	failing := errors.New("boom")
	steps.Op = func(_ context.Context, i int) error {
		if i == 1 {
			return failing
		}
		return nil
	}
	n = 3
	r, err = steps.Loop(context.Background(), nil, next, pause, resume)
	if !errors.Is(err, failing) || r.Iterations != 1 {
		t.Errorf("got %d iterations and %v, want 1 and %v", r.Iterations, err, failing)
	}
}
