package recovery

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// Throttle record kinds (auth.Auth.CountAttempt).
const (
	throttleResetAddress  = "recovery-reset-address:"
	throttleResetClient   = "recovery-reset-client:"
	throttleVerifyAddress = "recovery-verify-address:"
)

// ForgotPassword is the "forgot password" form's POST: it sends a reset
// link to address if a user has it (the key Config.EmailProvider +
// ":" + address), and otherwise sends nothing. The request must pass the
// core's CSRF check (auth.Auth.CheckOrigin).
//
// It answers the same, and in the same time, whether or not the address
// belongs to anyone, so that the form does not tell which addresses have
// accounts: nil in both cases (show "if an account has this address, we
// have sent it a link"). The time: every call that gets past the address
// check, throttled ones too, returns no sooner than Config.MinResponseTime
// (250 ms by default) or the core's failed-login floor
// (auth.Auth.FailedLoginFloor), whichever is longer, after it began; the
// message is delivered after the call returns, in the background (bounded
// by Config.SendTimeout, failures go to Config.Logger), so that a slow
// mail server does not show either. Use Wait before the process exits.
//
// Requests are throttled per address and per client (Config's
// AddressThrottle and ClientThrottle), whether or not the address is
// known: beyond the limits the call gives auth.ErrThrottled, a
// *auth.LimitError saying when to retry (answer 429 with
// auth.SetRetryAfter), the same for known and unknown addresses, and
// sends nothing. A malformed address gives an *auth.InputError at once
// (that tells nothing about accounts). A database error while issuing the
// token is returned, held to the same time.
//
// The token replaces the user's earlier reset tokens (only the newest link
// works) and expires after Config.ResetExpiry (1 hour by default).
func (f *Flow[A]) ForgotPassword(r *http.Request, address string) error {
	if err := f.auth.CheckOrigin(r); err != nil {
		return err
	}
	address, err := NormalizeAddress(address)
	if err != nil {
		return err
	}
	ctx := r.Context()
	start := f.now()
	defer f.hold(ctx, start)
	if err := f.auth.CountAttempt(ctx, throttleResetClient, f.auth.ClientKey(r), f.config.ClientThrottle); err != nil {
		return err
	}
	if err := f.auth.CountAttempt(ctx, throttleResetAddress, address, f.config.AddressThrottle); err != nil {
		return err
	}
	key, err := f.auth.GetKey(ctx, f.config.EmailProvider, address)
	switch {
	case errors.Is(err, auth.ErrInvalidKeyID):
		return nil // nobody has the address: nothing to send
	case err != nil:
		return err
	}
	token, err := f.issue(ctx, key.UserID, PurposeReset, "", f.config.ResetExpiry)
	if errors.Is(err, auth.ErrInvalidUserID) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	f.sendLater(ctx, PurposeReset, address, token, f.config.ResetExpiry)
	return nil
}

// hold waits until ForgotPassword's time has passed since start, or ctx
// ends.
func (f *Flow[A]) hold(ctx context.Context, start time.Time) {
	floor := max(f.config.MinResponseTime, f.auth.FailedLoginFloor())
	if d := start.Add(floor).Sub(f.now()); d > 0 {
		f.sleep(ctx, d)
	}
}

// sendLater delivers the message in the background, within
// Config.SendTimeout, whatever becomes of the request.
func (f *Flow[A]) sendLater(ctx context.Context, purpose Purpose, address, token string, expires time.Duration) {
	m := f.config.Compose(purpose, address, f.config.Link(purpose, token), expires)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.config.SendTimeout)
	f.mu.Lock()
	f.pending++
	f.mu.Unlock()
	go func() {
		defer func() {
			cancel()
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.pending--; f.pending == 0 {
				f.idle.Broadcast()
			}
		}()
		if err := f.config.Sender.Send(ctx, m); err != nil {
			f.config.Logger.ErrorContext(ctx, "recovery: sending failed", "purpose", string(purpose), "err", err)
		}
	}()
}
