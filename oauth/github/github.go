// Package github is GitHub as a provider for package oauth: OAuth 2.0
// (GitHub offers no OpenID Connect for user sign-in), with the user read
// from GitHub's REST API.
//
// The identity is GitHub's numeric user id, as a decimal string, under the
// provider id "github": the key "github:4711", exactly as Lucia v1's
// @lucia-auth/oauth writes it, so that users an existing Lucia application
// signed in with GitHub sign in here unchanged. The login name is
// Identity.Username; it can change, the id cannot.
//
// The email address is the user's primary address from /user/emails, with
// GitHub's verified flag, when the scopes allow it (user:email, which
// DefaultScopes asks for); otherwise the public profile address, counted as
// unverified.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/oauth2"

	"github.com/luciago/mongoauth/oauth"
)

// ProviderID is the provider id of GitHub keys unless Config.ID says
// otherwise; Lucia v1's @lucia-auth/oauth uses it.
const ProviderID = "github"

// DefaultScopes are requested unless Config.Scopes says otherwise: the
// profile (read-only) and the email addresses with their verified flags.
var DefaultScopes = []string{"read:user", "user:email"}

// Endpoint is GitHub's, and APIURL its REST API's base URL.
var (
	Endpoint = oauth2.Endpoint{
		AuthURL:   "https://github.com/login/oauth/authorize",
		TokenURL:  "https://github.com/login/oauth/access_token",
		AuthStyle: oauth2.AuthStyleInParams,
	}
	APIURL = "https://api.github.com"
)

// maxResponse bounds what is read from the API.
const maxResponse = 1 << 20

// Config configures a Provider.
type Config struct {
	// ID is the provider id of the keys; default ProviderID ("github").
	ID string
	// ClientID and ClientSecret are the OAuth app's (or GitHub App's)
	// credentials.
	ClientID     string
	ClientSecret string
	// RedirectURL is the application's callback URL, as registered with
	// the app.
	RedirectURL string
	// Scopes default to DefaultScopes.
	Scopes []string
	// Endpoint and APIURL default to GitHub's; set them for GitHub
	// Enterprise Server (https://HOST/login/oauth/..., https://HOST/api/v3)
	// or a test server.
	Endpoint oauth2.Endpoint
	APIURL   string
}

// Provider is GitHub. It implements oauth.Provider and is safe for
// concurrent use.
type Provider struct {
	id     string
	config oauth2.Config
	api    string
}

// New returns a provider for config.
func New(config Config) (*Provider, error) {
	if config.ClientID == "" || config.RedirectURL == "" {
		return nil, errors.New("github: Config.ClientID and RedirectURL are required")
	}
	p := &Provider{id: config.ID, api: strings.TrimSuffix(config.APIURL, "/"), config: oauth2.Config{
		ClientID:     config.ClientID,
		ClientSecret: config.ClientSecret,
		Endpoint:     config.Endpoint,
		RedirectURL:  config.RedirectURL,
		Scopes:       append([]string(nil), config.Scopes...),
	}}
	if p.id == "" {
		p.id = ProviderID
	}
	if p.config.Endpoint.AuthURL == "" {
		p.config.Endpoint = Endpoint
	}
	if p.api == "" {
		p.api = APIURL
	}
	if len(p.config.Scopes) == 0 {
		p.config.Scopes = slices.Clone(DefaultScopes)
	}
	return p, nil
}

// ID returns the provider id.
func (p *Provider) ID() string { return p.id }

// OAuth2Config returns the client configuration.
func (p *Provider) OAuth2Config(context.Context) (*oauth2.Config, error) {
	return &p.config, nil
}

// AuthCodeOptions returns none: GitHub has no nonce.
func (p *Provider) AuthCodeOptions(string) []oauth2.AuthCodeOption { return nil }

// user is what Identity reads of GET /user.
type user struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// email is one entry of GET /user/emails.
type email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Identity reads the user from the API with the token.
func (p *Provider) Identity(ctx context.Context, token *oauth2.Token, _ string) (oauth.Identity, error) {
	client := oauth2.NewClient(ctx, oauth2.StaticTokenSource(token))
	var u user
	raw, status, err := p.get(ctx, client, "/user", &u)
	switch {
	case err != nil:
		return oauth.Identity{}, err
	case status != http.StatusOK:
		return oauth.Identity{}, fmt.Errorf("%w: %s: GET /user answered %d", oauth.ErrInvalidIdentity, p.id, status)
	case u.ID <= 0:
		return oauth.Identity{}, fmt.Errorf("%w: %s: GET /user has no user id", oauth.ErrInvalidIdentity, p.id)
	}
	id := oauth.Identity{
		ProviderUserID: strconv.FormatInt(u.ID, 10),
		Email:          u.Email,
		Name:           u.Name,
		Username:       u.Login,
		Raw:            raw,
	}
	var emails []email
	_, status, err = p.get(ctx, client, "/user/emails", &emails)
	switch {
	case err != nil:
		return oauth.Identity{}, err
	case status == http.StatusOK:
		for _, e := range emails {
			if e.Primary {
				id.Email, id.EmailVerified = e.Email, e.Verified
			}
		}
	}
	// Otherwise (404 or 403 without the user:email scope) the profile
	// address stands, unverified.
	return id, nil
}

// get reads path from the API into v when the answer is 200 OK, and
// returns the body and status. No answer, or a server error, is
// oauth.ErrProviderUnavailable.
func (p *Provider) get(ctx context.Context, client *http.Client, path string, v any) (json.RawMessage, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+path, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	res, err := client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: GET %s: %w", oauth.ErrProviderUnavailable, p.id, path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	switch {
	case err != nil:
		return nil, 0, fmt.Errorf("%w: %s: GET %s: %w", oauth.ErrProviderUnavailable, p.id, path, err)
	case res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests:
		return nil, 0, fmt.Errorf("%w: %s: GET %s answered %d", oauth.ErrProviderUnavailable, p.id, path, res.StatusCode)
	case res.StatusCode != http.StatusOK:
		return nil, res.StatusCode, nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, 0, fmt.Errorf("%w: %s: GET %s: %w", oauth.ErrInvalidIdentity, p.id, path, err)
	}
	return body, res.StatusCode, nil
}
