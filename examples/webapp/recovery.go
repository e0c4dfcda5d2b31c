package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
	"github.com/luciago/mongoauth/recovery/smtp"
)

// Account recovery and e-mail verification, through package recovery: a
// user may give an e-mail address (the account's "email:<address>" key,
// unique across accounts) on the e-mail page, confirm it by a link sent
// there, and, having forgotten the password, ask for a reset link on the
// "forgot password" page. Links go out by SMTP when -smtp-host is set;
// with -dev and no SMTP server, the development sender keeps them, in
// the log and on the page /dev/mail, which exists only then. Without
// either, none of it shows.

// emailProvider is the provider id of the e-mail keys.
const emailProvider = "email"

// The pages the links open.
const (
	resetPath  = "/reset-password"
	verifyPath = "/verify-email"
)

const (
	msgResetSent       = "If an account has this address, we have sent it a link to reset the password. It is valid for an hour."
	msgBadAddress      = "Enter an e-mail address, such as ann@example.com."
	msgAddressTaken    = "That address belongs to another account."
	msgBadLink         = "This link is not valid: it has been used, replaced by a newer one, or was never sent. Ask for a new one."
	msgExpiredLink     = "This link has expired. Ask for a new one."
	msgNoAddress       = "Give your account an e-mail address first."
	msgNoPasswordReset = "This account signs in with a provider and has no password to reset."
)

func init() {
	notices["password-reset"] = "Your password has been reset and every other session signed out."
	notices["address-saved"] = "Your e-mail address is saved. Confirm it with the link we can send you."
	notices["verification-sent"] = "We have sent you a link: open it to confirm your address."
}

// recoveryView is what the recovery pages show.
type recoveryView struct {
	// Recovery says that the pages exist, DevMail that /dev/mail does.
	Recovery, DevMail bool
	// Token is the link's token, carried by the reset and confirm forms.
	Token string
	// Email and EmailVerified describe the user's address on the e-mail
	// page.
	Email         string
	EmailVerified bool
	// Mail is what the development sender holds, newest first.
	Mail []devMessage
}

// devMessage is one message on /dev/mail.
type devMessage struct {
	recovery.SentMessage
	Link string
}

// mailOptions are the command line's SMTP settings.
type mailOptions struct {
	host, from string
	port       int
}

// mailFlags defines the SMTP flags; the credentials come from the
// environment only (SMTP_USERNAME, SMTP_PASSWORD).
func mailFlags(flags *flag.FlagSet) *mailOptions {
	o := &mailOptions{}
	flags.StringVar(&o.host, "smtp-host", os.Getenv("SMTP_HOST"), "SMTP server `host` for reset and confirmation links, over TLS (env SMTP_HOST; credentials in SMTP_USERNAME, SMTP_PASSWORD); none: with -dev the links are shown at /dev/mail and in the log, without -dev there is no account recovery")
	flags.IntVar(&o.port, "smtp-port", 587, "SMTP server `port` (STARTTLS; 465 speaks TLS from the start)")
	flags.StringVar(&o.from, "smtp-from", os.Getenv("SMTP_FROM"), "the `address` messages come from (env SMTP_FROM)")
	return o
}

// setUpRecovery makes the flows over sender; the links point at
// a.baseURL, which must be set before the app serves.
func (a *app) setUpRecovery(sender recovery.Sender) error {
	flow, err := recovery.New(a.auth, recovery.Config{
		Sender: sender,
		Link: func(p recovery.Purpose, token string) string {
			path := resetPath
			if p == recovery.PurposeVerify {
				path = verifyPath
			}
			return a.baseURL + path + "?token=" + token
		},
		EmailProvider:    emailProvider,
		PasswordProvider: usernameProvider,
	})
	a.recovery = flow
	return err
}

// setUpMail replaces the development sender with SMTP when o names a
// server, and sets the links' base URL: publicURL, or base.
func (a *app) setUpMail(o *mailOptions, publicURL, base string) error {
	a.baseURL = base
	if publicURL != "" {
		a.baseURL = publicURL
	}
	if o.host == "" {
		return nil
	}
	sender, err := smtp.New(smtp.Config{
		Host: o.host, Port: o.port, From: o.from, ImplicitTLS: o.port == 465,
		Username: os.Getenv("SMTP_USERNAME"), Password: os.Getenv("SMTP_PASSWORD"),
	})
	if err != nil {
		return err
	}
	a.devMail = nil
	return a.setUpRecovery(sender)
}

// waitMail waits for the reset links still being sent.
func (a *app) waitMail() {
	if a.recovery != nil {
		a.recovery.Wait()
	}
}

// recoveryRoutes adds the recovery pages, if there is a sender.
func (a *app) recoveryRoutes(mux, user *http.ServeMux) {
	if a.recovery == nil {
		return
	}
	mux.HandleFunc("GET /forgot", a.visitorPage("forgot"))
	mux.HandleFunc("POST /forgot", a.forgot)
	mux.HandleFunc("GET "+resetPath, a.resetPage)
	mux.HandleFunc("POST "+resetPath, a.resetPassword)
	mux.HandleFunc("GET "+verifyPath, a.verifyPage)
	mux.HandleFunc("POST "+verifyPath, a.verifyEmail)
	user.HandleFunc("GET /email", a.emailPage)
	user.HandleFunc("POST /email", a.setEmail)
	user.HandleFunc("POST /email/verify", a.sendVerification)
	if a.devMail != nil {
		mux.HandleFunc("GET /dev/mail", a.devMailPage)
	}
}

// recoveryPageView adds what every page needs to know of recovery.
func (a *app) recoveryPageView(v *view) {
	v.Recovery = a.recovery != nil
	v.DevMail = a.devMail != nil
}

// forgot sends a reset link if an account has the address, and answers
// the same either way, in the same time (recovery.ForgotPassword).
func (a *app) forgot(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, msg string) { a.render(w, r, status, "forgot", view{Error: msg}) }
	err := a.recovery.ForgotPassword(r, r.PostFormValue("email"))
	switch {
	case err == nil:
		a.render(w, r, http.StatusOK, "forgot", view{Notice: msgResetSent})
	case errors.Is(err, auth.ErrInvalidInput):
		refuse(http.StatusUnprocessableEntity, msgBadAddress)
	case errors.Is(err, auth.ErrInvalidRequest):
		a.render(w, r, http.StatusForbidden, "error", view{Error: msgCrossOrigin})
	default:
		a.refusal(w, r, err, refuse)
	}
}

// linkError shows why a link's token was refused, or a server error.
func (a *app) linkError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, recovery.ErrInvalidToken):
		a.render(w, r, http.StatusBadRequest, "error", view{Error: msgBadLink})
	case errors.Is(err, recovery.ErrExpiredToken):
		a.render(w, r, http.StatusGone, "error", view{Error: msgExpiredLink})
	case errors.Is(err, recovery.ErrNoPasswordKey):
		a.render(w, r, http.StatusConflict, "error", view{Error: msgNoPasswordReset})
	default:
		a.refusal(w, r, err, func(status int, msg string) { a.render(w, r, status, "error", view{Error: msg}) })
	}
}

// resetPage shows the new-password form for a good link. It does not
// use the token up: mail scanners open links too.
func (a *app) resetPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if err := a.recovery.CheckResetToken(r.Context(), token); err != nil {
		a.linkError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "reset", view{recoveryView: recoveryView{Token: token}})
}

// resetPassword sets the new password, which ends every session of the
// user, and logs this browser in afresh.
func (a *app) resetPassword(w http.ResponseWriter, r *http.Request) {
	token, password := r.PostFormValue("token"), r.PostFormValue("new")
	if msg := passwordProblem(password); msg != "" {
		a.render(w, r, http.StatusUnprocessableEntity, "reset", view{Error: msg, recoveryView: recoveryView{Token: token}})
		return
	}
	if err := a.auth.CheckOrigin(r); err != nil {
		a.authError(w, r, err)
		return
	}
	userID, err := a.recovery.ResetPassword(r.Context(), token, password)
	if err != nil {
		a.linkError(w, r, err)
		return
	}
	if _, err := a.auth.StartSession(w, r, userID); err != nil {
		a.failed(w, r, err)
		return
	}
	http.Redirect(w, r, "/?done=password-reset", http.StatusSeeOther)
}

// verifyPage asks for a click before the token is used.
func (a *app) verifyPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "verify", view{recoveryView: recoveryView{Token: r.URL.Query().Get("token")}})
}

func (a *app) verifyEmail(w http.ResponseWriter, r *http.Request) {
	if err := a.auth.CheckOrigin(r); err != nil {
		a.authError(w, r, err)
		return
	}
	_, address, err := a.recovery.VerifyEmail(r.Context(), r.PostFormValue("token"))
	if err != nil {
		a.linkError(w, r, err)
		return
	}
	a.render(w, r, http.StatusOK, "verify", view{Notice: fmt.Sprintf("Your address %s is confirmed.", address)})
}

// emailPage shows the user's address and whether it is confirmed.
func (a *app) emailPage(w http.ResponseWriter, r *http.Request) {
	a.renderEmail(w, r, http.StatusOK, "")
}

func (a *app) renderEmail(w http.ResponseWriter, r *http.Request, status int, errMsg string) {
	v := view{Notice: notice(r), Error: errMsg}
	address, verified, err := a.recovery.Address(r.Context(), currentUser(r).ID)
	if err != nil && !errors.Is(err, recovery.ErrNoAddress) {
		a.failed(w, r, err)
		return
	}
	v.Email, v.EmailVerified = address, verified
	a.render(w, r, status, "email", v)
}

// emailChangeThrottle bounds address changes per account: a taken
// address is reported ("belongs to another account"), so the form would
// otherwise tell a signed-in user quickly which addresses have accounts.
var emailChangeThrottle = auth.ThrottlePolicy{FreeFailures: 5, MaxDelay: 10 * time.Minute}

// setEmail gives the account the address, in place of the one it had.
// The new key is created first, so that a taken address leaves the old
// one in place.
func (a *app) setEmail(w http.ResponseWriter, r *http.Request) {
	user := currentUser(r)
	address, err := recovery.NormalizeAddress(r.PostFormValue("email"))
	if err != nil {
		a.renderEmail(w, r, http.StatusUnprocessableEntity, msgBadAddress)
		return
	}
	if err := a.auth.CountAttempt(r.Context(), "webapp-email:", user.ID, emailChangeThrottle); err != nil {
		a.emailRefusal(w, r, err, "Too many address changes.")
		return
	}
	old, _, err := a.recovery.Address(r.Context(), user.ID)
	switch {
	case err == nil && old == address:
		http.Redirect(w, r, "/email", http.StatusSeeOther)
		return
	case err != nil && !errors.Is(err, recovery.ErrNoAddress):
		a.failed(w, r, err)
		return
	}
	_, err = a.auth.CreateKey(r.Context(), user.ID, auth.KeyParams{ProviderID: emailProvider, ProviderUserID: address})
	switch {
	case errors.Is(err, auth.ErrDuplicateKeyID):
		a.renderEmail(w, r, http.StatusConflict, msgAddressTaken)
		return
	case err != nil:
		a.failed(w, r, err)
		return
	}
	if old != "" {
		if err := a.auth.DeleteKey(r.Context(), emailProvider, old); err != nil {
			a.failed(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/email?done=address-saved", http.StatusSeeOther)
}

func (a *app) sendVerification(w http.ResponseWriter, r *http.Request) {
	_, err := a.recovery.SendVerification(r.Context(), currentUser(r).ID)
	switch {
	case err == nil:
		http.Redirect(w, r, "/email?done=verification-sent", http.StatusSeeOther)
	case errors.Is(err, recovery.ErrNoAddress):
		a.renderEmail(w, r, http.StatusConflict, msgNoAddress)
	default:
		a.emailRefusal(w, r, err, "Too many links sent to this address.")
	}
}

// emailRefusal answers a throttled request of the e-mail page (what names
// the limit), or any other error as failed does.
func (a *app) emailRefusal(w http.ResponseWriter, r *http.Request, err error, what string) {
	var limit *auth.LimitError
	if errors.As(err, &limit) && errors.Is(err, auth.ErrThrottled) {
		auth.SetRetryAfter(w, err)
		a.renderEmail(w, r, http.StatusTooManyRequests, msgThrottled(what, limit.RetryAfter))
		return
	}
	a.failed(w, r, err)
}

var linkInText = regexp.MustCompile(`https?://\S+`)

// devMailPage shows what the development sender holds: every reset and
// confirmation link, for anyone who opens it, hence only with -dev.
func (a *app) devMailPage(w http.ResponseWriter, r *http.Request) {
	var v view
	for _, m := range a.devMail.Messages() {
		v.Mail = append(v.Mail, devMessage{SentMessage: m, Link: linkInText.FindString(m.Text)})
	}
	a.render(w, r, http.StatusOK, "devmail", v)
}

// newDevSender is the development sender, logging to the app's log.
func newDevSender() *recovery.DevSender {
	return &recovery.DevSender{Logger: slog.Default()}
}
