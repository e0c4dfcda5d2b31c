package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

// TestConcurrentRenewalKeepsOneSession: many requests carrying one idle
// session arrive at once (a browser back after a day). They must leave at
// most one more live session behind; renewing in place leaves none.
func TestConcurrentRenewalKeepsOneSession(t *testing.T) {
	forEveryBackend(t, func(t *testing.T, b backend) {
		adapter := b.newAdapter(t)
		if _, ok := adapter.(auth.SessionUpdater); !ok {
			t.Skip("no auth.SessionUpdater: each renewal creates a session, as ValidateSession documents (SessionLifecycle covers it)")
		}
		e := newEnv(t, adapter, nil)
		u := e.user("ann", "pw")
		s := e.session(u.ID)
		e.clock.Advance(25 * time.Hour) // idle
		renewedAt := e.clock.Now()

		const requests = 24
		renewed := make([]auth.Session, requests)
		var wg sync.WaitGroup
		for i := range requests {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					renewed[i], err = e.a.ValidateSession(e.ctx, s.Token)
				} else {
					renewed[i], _, err = e.a.ValidateSessionUser(e.ctx, s.Token)
				}
				if err != nil {
					t.Errorf("validation %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		fresh := 0
		for _, r := range renewed {
			if r.Fresh {
				fresh++ // this one renewed it: its response sends the cookie
			}
			r.Fresh = false // the others read it renewed already
			assert.Equal(t, auth.Session{
				ID: s.ID, Token: s.Token, UserID: u.ID, State: auth.SessionActive, IssuedAt: s.IssuedAt,
				ActiveExpires: renewedAt.Add(24 * time.Hour),
				IdleExpires:   renewedAt.Add(15 * 24 * time.Hour),
			}, r, "renewed in place: same id, new expiry")
		}
		assert.Positive(t, fresh, "at least one validation renewed the session")
		stored, err := e.a.Adapter().GetSessionsByUserID(e.ctx, u.ID)
		require.NoError(t, err)
		require.Len(t, stored, 1, "concurrent renewals multiplied the session")
		assert.Equal(t, renewedAt.Add(15*24*time.Hour).UnixMilli(), stored[0].IdleExpires, "the new expiry is stored")

		got, err := e.a.ValidateSession(e.ctx, s.Token)
		require.NoError(t, err)
		assert.False(t, got.Fresh, "active again: no further renewal")
	})
}

// readHook is a memory adapter that runs afterRead once, right after the
// next read of a session: the moment between a validation's read and its
// renewal.
type readHook struct {
	*memoryAdapter
	afterRead func()
}

func (h *readHook) run() {
	if f := h.afterRead; f != nil {
		h.afterRead = nil
		f()
	}
}

func (h *readHook) GetSession(ctx context.Context, id string) (auth.SessionRecord, error) {
	defer h.run()
	return h.memoryAdapter.GetSession(ctx, id)
}

func (h *readHook) GetSessionAndUser(ctx context.Context, id string) (auth.SessionRecord, auth.UserRecord, error) {
	defer h.run()
	return h.memoryAdapter.GetSessionAndUser(ctx, id)
}

// TestRenewalOfSessionEndedMeanwhile: a session logged out, or whose user
// is deleted, between a validation's read and its renewal is invalid: the
// renewal must not bring it back or make another.
func TestRenewalOfSessionEndedMeanwhile(t *testing.T) {
	for _, inPlace := range []bool{true, false} {
		for _, ending := range []string{"LoggedOut", "UserDeleted"} {
			name := ending + "/InPlace"
			if !inPlace {
				name = ending + "/WithoutSessionUpdater"
			}
			t.Run(name, func(t *testing.T) {
				if !inPlace && ending == "LoggedOut" {
					t.Skip("without auth.SessionUpdater a renewal creates a new session for the user, as Lucia v1 did; ValidateSession documents it")
				}
				hooked := &readHook{memoryAdapter: newMemoryAdapter()}
				var adapter auth.Adapter = hooked
				if !inPlace {
					adapter = withoutGetter{hooked}
				}
				e := newEnv(t, adapter, nil)
				u := e.user("ann", "pw")
				s := e.session(u.ID)
				e.clock.Advance(25 * time.Hour)
				for _, validate := range []func() error{
					func() error { _, err := e.a.ValidateSession(e.ctx, s.Token); return err },
					func() error { _, _, err := e.a.ValidateSessionUser(e.ctx, s.Token); return err },
				} {
					hooked.afterRead = func() {
						if ending == "LoggedOut" {
							require.NoError(t, hooked.DeleteSession(e.ctx, s.ID))
						} else {
							require.NoError(t, hooked.DeleteUser(e.ctx, u.ID))
						}
					}
					require.ErrorIs(t, validate(), auth.ErrInvalidSessionID)
					stored, err := hooked.GetSessionsByUserID(e.ctx, u.ID)
					require.NoError(t, err)
					assert.Empty(t, stored, "nothing revived or created")
				}
			})
		}
	}
}
