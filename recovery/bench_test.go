package recovery_test

import (
	"strconv"
	"testing"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
)

// BenchmarkForgotPasswordWork measures what ForgotPassword does before its
// hold, for a known address (read the key, replace the user's tokens,
// create one) and an unknown one (read the key), on each storage: the
// work MinResponseTime (250 ms by default) must cover so that both
// answers take the same time. Throttles are off; the hold is not waited
// for; delivery runs in the background and is not counted.
//
//	go test ./recovery -run '^$' -bench ForgotPasswordWork
func BenchmarkForgotPasswordWork(b *testing.B) {
	for _, s := range storages() {
		b.Run(s.Name, func(b *testing.B) {
			adapter := s.Open(b) // skips without its server
			off := auth.ThrottlePolicy{Disabled: true}
			f := newFixture(b, adapter, func(c *recovery.Config) { c.AddressThrottle, c.ClientThrottle = off, off })
			f.user("bench", "bench@example.com")
			for _, address := range []string{"bench@example.com", "nobody@example.com"} {
				name := "known"
				if address != "bench@example.com" {
					name = "unknown"
				}
				b.Run(name, func(b *testing.B) {
					for i := 0; b.Loop(); i++ {
						if err := f.forgot(address, "192.0.2."+strconv.Itoa(i%250)); err != nil {
							b.Fatal(err)
						}
					}
					f.flow.Wait()
				})
			}
		})
	}
}
