// Package recovery is account recovery over package auth: password reset
// ("forgot password") and e-mail verification, by single-use tokens sent
// by e-mail. It needs nothing but the standard library and package auth;
// messages go out through a Sender: recovery/smtp's (on
// github.com/wneessen/go-mail, its own package so that only applications
// that use it import it) or DevSender, which keeps and logs them for
// development.
//
// # Use
//
// Users' addresses are keys without password, "email:" + address
// (NormalizeAddress), as Lucia's e-mail keys are: create one with
// auth.Auth.CreateKey. Then, inside auth's Middleware:
//
//	flow, err := recovery.New(a, recovery.Config{
//		Sender:           sender,
//		Link:             func(p recovery.Purpose, token string) string { return base + "/" + string(p) + "?token=" + token },
//		PasswordProvider: "username", // the key whose password a reset sets
//	})
//
//	// POST /forgot: the same answer whatever the address.
//	err := flow.ForgotPassword(r, r.PostFormValue("email"))
//	// GET /password-reset?token=...: the form, if flow.CheckResetToken is nil.
//	// POST /password-reset:
//	userID, err := flow.ResetPassword(ctx, r.PostFormValue("token"), r.PostFormValue("password"))
//	// signed in, POST /email/verify:
//	address, err := flow.SendVerification(ctx, user.ID)
//	// POST /email-verification (from the link's page):
//	userID, address, err := flow.VerifyEmail(ctx, r.PostFormValue("token"))
//
// # What it defends against
//
// Stolen databases: a token (32 random bytes, base64url) is stored only as
// its SHA-256, as a single-use key "password-reset:<digest>" or
// "email-verification:<digest>", so every adapter keeps tokens without a
// table of its own.
//
// Replay: a token works once, also under concurrent use: it is used up by
// auth.Auth.UseKey, which deletes it atomically with adapters that
// implement auth.KeyConsumer (all of this module's do), and only the call
// that deleted it succeeds. Expired tokens (ResetExpiry, 1 hour by
// default; VerifyExpiry, 24 hours) are refused and deleted. A new token
// replaces the user's earlier ones of its purpose.
//
// Account takeover after a reset: a reset ends all the user's sessions.
//
// Enumeration through "forgot password": ForgotPassword answers nil for
// known and unknown addresses alike, after the same time (MinResponseTime
// or the core's failed-login floor), and delivers in the background; its
// throttles count every request, so their refusals are alike too.
//
// Mail bombing and address probing: ForgotPassword is throttled per address
// and per client, in the core's throttle store (shared by an
// application's instances when it is a database's); SendVerification per
// address.
//
// Verifying an address one does not own: a verification token holds the
// address it was sent to (hashed, as a key password), and works only
// while the user still has that address. VerifyEmail sets the user
// attribute VerifiedAttribute ("email_verified") to the address; an
// address is verified when that attribute equals it.
//
// Links followed by mail scanners: the pages the links open should ask for
// a click (a POST) before using the token; CheckResetToken tells the GET
// whether to show the form.
package recovery
