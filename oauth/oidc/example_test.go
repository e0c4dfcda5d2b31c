package oidc_test

import (
	"log"
	"os"

	"golang.org/x/oauth2"

	"github.com/luciago/mongoauth/oauth"
	"github.com/luciago/mongoauth/oauth/oidc"
)

// A provider for Microsoft Entra ID, asking the user to pick an account.
// Nothing is fetched until the first sign-in.
func ExampleNew() {
	tenant := os.Getenv("ENTRA_TENANT_ID")
	entra, err := oidc.New(oidc.Config{
		ID:              "entra",
		Issuer:          "https://login.microsoftonline.com/" + tenant + "/v2.0",
		ClientID:        os.Getenv("ENTRA_CLIENT_ID"),
		ClientSecret:    os.Getenv("ENTRA_CLIENT_SECRET"),
		RedirectURL:     "https://app.example/auth/entra/callback",
		AuthCodeOptions: []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "select_account")},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = oauth.Config[struct{}]{Providers: []oauth.Provider{entra}}
}
