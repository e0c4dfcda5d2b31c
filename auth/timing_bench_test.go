package auth_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// BenchmarkFailedLoginTiming measures how long failed logins take with the
// production hasher, by what failed: each round runs every case once, in a
// random order, so that all cases share the machine's noise. It prints the
// median of each case and its ratio to the unknown-key case (target: within
// ±15 %), and reports them as metrics. Run it with enough rounds:
//
//	go test -run '^$' -bench FailedLoginTiming -benchtime 60x ./auth
//
// Every round uses fresh keys, and the key throttle locks a key after one
// failure, so that only the "throttled" case meets a lock.
func BenchmarkFailedLoginTiming(b *testing.B) {
	ctx := context.Background()
	adapter := newMemoryAdapter()
	a, err := auth.New[profile](adapter, auth.Config{
		KeyThrottle: auth.ThrottlePolicy{FreeFailures: 1, MaxDelay: time.Hour},
	})
	require.NoError(b, err)
	user, err := a.CreateUser(ctx, profile{Username: "ann"}, &auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "right"})
	require.NoError(b, err)
	annKey, err := adapter.GetKey(ctx, "username:ann")
	require.NoError(b, err)
	vectors := map[string]string{}
	for _, v := range readVectors(b, "testdata/scrypt_vectors.json") {
		vectors[v.Format] = v.Hash
	}
	hashes := map[string]string{
		"argon2id": *annKey.HashedPassword,
		"s2":       vectors["s2"],
		"legacy":   vectors["legacy"],
		"bcrypt":   "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"none":     "",
	}
	// key stores a fresh key with the given kind of hash and returns its
	// provider user id.
	round := 0
	key := func(kind string) string {
		id := kind + "-" + strconv.Itoa(round)
		rec := auth.KeyRecord{ID: "bench:" + id, UserID: user.ID}
		if h := hashes[kind]; h != "" {
			rec.HashedPassword = &h
		}
		require.NoError(b, adapter.SetKey(ctx, rec))
		return id
	}
	_, err = a.UseKey(ctx, "bench", "locked", "wrong") // the lock for the throttled case
	require.ErrorIs(b, err, auth.ErrInvalidKeyID)

	use := func(kind string) func() error {
		return func() error {
			id := "unknown-" + strconv.Itoa(round)
			if kind != "" {
				id = key(kind)
			}
			_, err := a.UseKey(ctx, "bench", id, "wrong")
			return err
		}
	}
	cases := []struct {
		name  string
		want  error
		login func() error // one failed attempt
	}{
		{"unknown-key", auth.ErrInvalidKeyID, use("")},
		{"wrong-password-argon2id", auth.ErrInvalidPassword, use("argon2id")},
		{"wrong-password-s2-scrypt", auth.ErrInvalidPassword, use("s2")},
		{"wrong-password-legacy-scrypt", auth.ErrInvalidPassword, use("legacy")},
		{"bcrypt-hash", auth.ErrOutdatedPassword, use("bcrypt")},
		{"password-for-passwordless-key", auth.ErrInvalidPassword, use("none")},
		{"throttled", auth.ErrThrottled, func() error {
			_, err := a.UseKey(ctx, "bench", "locked", "wrong")
			return err
		}},
	}
	times := make([][]time.Duration, len(cases))
	order := make([]int, len(cases))
	for i := range order {
		order[i] = i
	}
	runRound := func(keep bool) {
		round++
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			start := time.Now()
			err := cases[i].login()
			took := time.Since(start)
			if !errors.Is(err, cases[i].want) {
				b.Fatalf("%s: got %v, want %v", cases[i].name, err, cases[i].want)
			}
			if keep {
				times[i] = append(times[i], took)
			}
		}
	}
	// The estimates keep the last 16 verifications of each kind: fill them
	// under this run's conditions first.
	for range 8 {
		runRound(false)
	}
	for b.Loop() {
		runRound(true)
	}

	median := func(ds []time.Duration) time.Duration {
		ds = slices.Clone(ds)
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	base := median(times[0])
	var rows strings.Builder
	worst := 0.0
	for i, c := range cases {
		m := median(times[i])
		ratio := float64(m) / float64(base)
		worst = max(worst, math.Abs(ratio-1))
		fmt.Fprintf(&rows, "\n%-30s %8.1f ms %6.2f", c.name, float64(m)/1e6, ratio)
		b.ReportMetric(float64(m)/1e6, "ms-"+c.name)
	}
	b.ReportMetric(100*worst, "%-max-deviation")
	// Eight lines: testing cuts a benchmark's log after ten.
	b.Logf("%d rounds; largest deviation from unknown-key %.1f %% (target ≤ 15 %%)\n%-30s %11s %6s%s",
		len(times[0]), 100*worst, "failed login", "median", "ratio", rows.String())
}
