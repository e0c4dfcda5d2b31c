package recovery_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

// A password reset from "forgot password" to the new password, with the
// development sender (recovery/smtp's Sender in production), over SQLite.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "recovery")
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "auth.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	adapter, err := sqlite.New(ctx, db, sqlauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if err := adapter.CreateTables(ctx); err != nil {
		log.Fatal(err)
	}
	a, err := auth.New[map[string]any](adapter, auth.Config{})
	if err != nil {
		log.Fatal(err)
	}

	// A user who logs in by username and has an e-mail address.
	user, _ := a.CreateUser(ctx, map[string]any{}, &auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: "forgotten password"})
	address, _ := recovery.NormalizeAddress("Ann@Example.com")
	_, _ = a.CreateKey(ctx, user.ID, auth.KeyParams{ProviderID: "email", ProviderUserID: address})

	mail := &recovery.DevSender{Logger: slog.New(slog.DiscardHandler)}
	flow, err := recovery.New(a, recovery.Config{
		Sender:           mail,
		Link:             func(_ recovery.Purpose, token string) string { return "https://app.example/reset?token=" + token },
		PasswordProvider: "username",
	})
	if err != nil {
		log.Fatal(err)
	}

	// POST /forgot: nil whether or not an account has the address.
	r := httptest.NewRequest("POST", "/forgot", nil)
	fmt.Println(flow.ForgotPassword(r, "ann@example.com"))
	flow.Wait() // the message goes out in the background

	// The link in the message, then POST /reset with the new password.
	sent := mail.Messages()[0]
	link := sent.Text[strings.Index(sent.Text, "https://"):]
	link, _, _ = strings.Cut(link, "\n")
	u, _ := url.Parse(link)
	userID, err := flow.ResetPassword(ctx, u.Query().Get("token"), "a new password")
	fmt.Println(sent.To, sent.Subject, userID == user.ID, err)
	_, err = a.UseKey(ctx, "username", "ann", "a new password")
	fmt.Println(err)
	_, err = flow.ResetPassword(ctx, u.Query().Get("token"), "another password")
	fmt.Println(err)
	// Output:
	// <nil>
	// ann@example.com Reset your password true <nil>
	// <nil>
	// recovery: invalid or used token
}
