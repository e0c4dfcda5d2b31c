package main

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// What the app tells users. The wrong-credentials message is the same for
// an unknown username and a wrong password, so that the login form does
// not reveal which usernames exist. (The sign-up form has to reveal that a
// username is taken; that is the usual trade-off.)
const (
	msgWrongLogin       = "Wrong username or password."
	msgMissingLogin     = "Enter your username and password."
	msgWrongPassword    = "That is not your current password."
	msgOutdatedPassword = "Your password was stored by an older version of this site in a form it can no longer check, so it cannot be confirmed here."
	msgCrossOrigin      = "This form was refused because it was not sent from this site's own pages (the CSRF check). If you sent it yourself, go back, reload the page and try again."
	msgServerError      = "Something went wrong on our side. Please try again later."
	msgSessionNotFound  = "That session is not signed in any more. The list below is up to date."
	msgBusy             = "The server is busy right now. Please try again in a moment."
	msgNoPassword       = "This account signs in with a provider and has no password to confirm this with."
	msgSignInAgain      = "To confirm, sign in again with your provider, then delete the account within five minutes."
	minUsernameLength   = 3
	maxUsernameLength   = 32
	minPasswordLength   = 8
	maxPasswordLength   = 256
	usernameCharacters  = "abcdefghijklmnopqrstuvwxyz0123456789-_"
)

// msgThrottled is the error after too many attempts: what names them ("Too
// many failed login attempts.", for the username or from the visitor's
// address, the same whether or not the username exists; "Too many
// sign-ups from your address."; "Too many attempts." at confirming the
// password), wait is how long to wait.
func msgThrottled(what string, wait time.Duration) string {
	n, unit := int((wait+time.Second-1)/time.Second), "second"
	if n > 90 {
		n, unit = int((wait+time.Minute-1)/time.Minute), "minute"
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%s Please wait %d %s and try again.", what, n, unit)
}

// msgUsernameTaken is the sign-up error for a username that exists.
func msgUsernameTaken(username string) string {
	return fmt.Sprintf("The username %q is taken. Please choose another one.", username)
}

// normalizeUsername makes what was typed into a username: "Ann " and
// "ann" are one user.
func normalizeUsername(typed string) string {
	return strings.ToLower(strings.TrimSpace(typed))
}

// usernameProblem says what is wrong with a normalized username for
// sign-up, or "" if nothing is.
func usernameProblem(username string) string {
	switch {
	case username == "":
		return "Choose a username."
	case len(username) < minUsernameLength || len(username) > maxUsernameLength:
		return fmt.Sprintf("The username must have %d to %d characters.", minUsernameLength, maxUsernameLength)
	case strings.ContainsFunc(username, func(c rune) bool { return !strings.ContainsRune(usernameCharacters, c) }):
		return "The username may contain only letters a-z, digits, '-' and '_'."
	}
	return ""
}

// passwordProblem says what is wrong with a new password, or "" if
// nothing is. Length is what matters (NIST SP 800-63B): no composition
// rules. The upper bound keeps hashing cheap for the server.
func passwordProblem(password string) string {
	switch n := utf8.RuneCountInString(password); {
	case n == 0:
		return "Choose a password."
	case !utf8.ValidString(password) || strings.ContainsRune(password, 0):
		// auth refuses these: NFKC and Lucia's hashes cannot treat them
		// consistently. Browsers send valid UTF-8; other clients may not.
		return "The password contains characters that cannot be used."
	case n < minPasswordLength:
		return fmt.Sprintf("The password is too short: use at least %d characters.", minPasswordLength)
	case n > maxPasswordLength:
		return fmt.Sprintf("The password is too long: use at most %d characters.", maxPasswordLength)
	}
	return ""
}
