package github_test

import (
	"log"
	"os"

	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/github"
)

// GitHub beside a Lucia v1 application: its users' keys are "github:<id>",
// which this provider's identities match.
func ExampleNew() {
	gh, err := github.New(github.Config{
		ClientID:     os.Getenv("GITHUB_CLIENT_ID"),
		ClientSecret: os.Getenv("GITHUB_CLIENT_SECRET"),
		RedirectURL:  "https://app.example/auth/github/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = oauth.Config[struct{}]{Providers: []oauth.Provider{gh}}
}
