package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// A Provider is an identity provider the Flow sends users to: its client
// configuration and how it says who signed in. Package oauth/oidc has one
// for every OpenID Connect provider, package oauth/github one for GitHub.
//
// The Flow calls a Provider with a context that carries Config.HTTPClient
// under oauth2.HTTPClient, the key that x/oauth2 and go-oidc read, so that
// a provider's own requests use that client.
type Provider interface {
	// ID is the provider id of the keys this provider's identities get:
	// a user signed in with it has the key ID() + ":" +
	// Identity.ProviderUserID. It must be a valid provider id (not empty,
	// no ':') and must not change once keys exist: "github" for GitHub,
	// as Lucia v1's @lucia-auth/oauth writes it.
	ID() string

	// OAuth2Config returns the client configuration: client id and secret,
	// endpoints, scopes and the RedirectURL of the application's callback,
	// which the Flow needs. It may fetch what it needs the first time (an
	// OpenID provider's discovery document) and then fails, when the
	// provider cannot be reached, with an error matching
	// ErrProviderUnavailable. The Flow does not modify the result.
	OAuth2Config(ctx context.Context) (*oauth2.Config, error)

	// AuthCodeOptions returns the provider's own parameters of the
	// authorization request. nonce is fresh for each request: an OpenID
	// provider sends it (and Identity checks it comes back in the ID
	// token); others ignore it.
	AuthCodeOptions(nonce string) []oauth2.AuthCodeOption

	// Identity returns who signed in, given the token the Flow got for the
	// authorization code and the nonce it sent. An OpenID provider
	// verifies the ID token (signature, issuer, audience, expiry, nonce);
	// GitHub asks its API. Errors match ErrInvalidIdentity when the answer
	// proves nobody, ErrProviderUnavailable when the provider cannot be
	// reached.
	Identity(ctx context.Context, token *oauth2.Token, nonce string) (Identity, error)
}

// Identity is a user as the provider describes them.
type Identity struct {
	// Provider is the provider's id (Provider.ID).
	Provider string
	// ProviderUserID is the user's stable id at the provider: the "sub"
	// claim of an OpenID provider, the numeric user id at GitHub. Never an
	// email address or a username, which can change hands.
	ProviderUserID string
	// Email is the user's address as the provider reports it, "" for
	// none. EmailVerified says whether the provider vouches that the user
	// controls it; only a verified address may join an existing account
	// (see Config.FindUserByEmail).
	Email         string
	EmailVerified bool
	// Name is the user's display name, Username the name they go by at
	// the provider (OpenID's preferred_username, GitHub's login); either
	// may be empty. Neither is unique or stable: use them for display,
	// not to identify anyone.
	Name     string
	Username string
	// Raw is what the provider said, as JSON: the ID token's claims, or
	// GitHub's user document. Decode it for claims not listed here.
	Raw json.RawMessage
}

// defaultHTTPClient makes the provider requests unless Config.HTTPClient
// is set: without a bound, a provider that accepts the connection and
// never answers would hold the request's goroutine for as long as the
// request's context lives, which net/http does not end on its own.
var defaultHTTPClient = &http.Client{Timeout: 10 * time.Second}
