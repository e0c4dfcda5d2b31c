// Package oidc is an OpenID Connect provider for package oauth: sign-in
// with any provider that publishes OpenID discovery (Google, Microsoft
// Entra ID, Okta, Auth0, Keycloak, Zitadel, GitLab, ...), with the ID
// token verified by github.com/coreos/go-oidc/v3.
//
// The provider is found by discovery from its issuer URL at the first
// sign-in, not at New, so that an application starts while its provider
// is down; until discovery succeeds, sign-ins fail with
// oauth.ErrProviderUnavailable (and are retried at most every few
// seconds).
//
// Every ID token is verified before it counts: its signature against the
// provider's published keys, its issuer, its audience (the client id,
// and the authorized party when there are other audiences), its expiry,
// the nonce the sign-in sent, and the access token's hash when the token
// carries one. The identity is the "sub" claim, unique per issuer, so
// give each issuer its own provider id. Email, email_verified, name and
// preferred_username come from the ID token, or from the userinfo
// endpoint when the ID token has no email address.
package oidc

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/luciago/mongoauth/oauth"
)

// DefaultScopes are requested unless Config.Scopes says otherwise.
var DefaultScopes = []string{gooidc.ScopeOpenID, "email", "profile"}

// rediscoverAfter is how long a failed discovery is remembered: sign-ins
// meanwhile fail at once instead of each waiting for the provider.
const rediscoverAfter = 5 * time.Second

// Config configures a Provider.
type Config struct {
	// ID is the provider id of the keys ("google", "okta"): required, and
	// one per issuer, since subjects are unique only within an issuer.
	ID string
	// Issuer is the provider's issuer URL, such as
	// "https://accounts.google.com": discovery reads
	// Issuer + "/.well-known/openid-configuration", and ID tokens must
	// name it exactly.
	Issuer string
	// ClientID and ClientSecret are the application's credentials at the
	// provider.
	ClientID     string
	ClientSecret string
	// RedirectURL is the application's callback URL, as registered with
	// the provider.
	RedirectURL string
	// Scopes are the scopes requested; default DefaultScopes ("openid",
	// "email", "profile"). "openid" is added if missing.
	Scopes []string
	// AuthCodeOptions are further parameters of every authorization
	// request, such as oauth2.SetAuthURLParam("prompt",
	// "select_account").
	AuthCodeOptions []oauth2.AuthCodeOption
}

// Provider is an OpenID Connect provider. It implements oauth.Provider and
// is safe for concurrent use.
type Provider struct {
	config Config
	// lock serializes discovery; a channel so that waiting honours the
	// caller's context.
	lock       chan struct{}
	mu         sync.Mutex // guards the fields below
	discovered *discovered
	failed     error
	failedAt   time.Time
}

// discovered is what discovery found.
type discovered struct {
	provider *gooidc.Provider
	oauth2   oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

// New returns a provider for config. It does not contact the provider.
func New(config Config) (*Provider, error) {
	switch {
	case config.ID == "" || strings.IndexByte(config.ID, ':') >= 0:
		return nil, fmt.Errorf("oidc: provider id %q: must be non-empty and without ':'", config.ID)
	case config.Issuer == "":
		return nil, errors.New("oidc: Config.Issuer is required")
	case config.ClientID == "":
		return nil, errors.New("oidc: Config.ClientID is required")
	case config.RedirectURL == "":
		return nil, errors.New("oidc: Config.RedirectURL is required")
	}
	if len(config.Scopes) == 0 {
		config.Scopes = DefaultScopes
	}
	if !slices.Contains(config.Scopes, gooidc.ScopeOpenID) {
		config.Scopes = append([]string{gooidc.ScopeOpenID}, config.Scopes...)
	}
	config.Scopes = slices.Clone(config.Scopes)
	return &Provider{config: config, lock: make(chan struct{}, 1)}, nil
}

// ID returns Config.ID.
func (p *Provider) ID() string { return p.config.ID }

// OAuth2Config returns the client configuration, discovering the
// provider's endpoints first if no call has yet.
func (p *Provider) OAuth2Config(ctx context.Context) (*oauth2.Config, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return nil, err
	}
	// The same Config every time: it caches how the token endpoint takes
	// the client's credentials, found by trying.
	return &d.oauth2, nil
}

// AuthCodeOptions returns the nonce parameter and Config.AuthCodeOptions.
func (p *Provider) AuthCodeOptions(nonce string) []oauth2.AuthCodeOption {
	return append([]oauth2.AuthCodeOption{gooidc.Nonce(nonce)}, p.config.AuthCodeOptions...)
}

// discover returns the discovered provider, running discovery if it has
// not succeeded yet and did not fail in the last rediscoverAfter.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	if d, err := p.known(); d != nil || err != nil {
		return d, err
	}
	select {
	case p.lock <- struct{}{}:
		defer func() { <-p.lock }()
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: discovery: %w", oauth.ErrProviderUnavailable, p.config.ID, ctx.Err())
	}
	if d, err := p.known(); d != nil || err != nil {
		return d, err // another caller finished meanwhile
	}
	d, err := p.fetchDiscovery(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("%w: %s: discovery: %w", oauth.ErrProviderUnavailable, p.config.ID, err)
		if ctx.Err() == nil { // a caller that gave up says nothing of the provider
			p.failed, p.failedAt = err, time.Now()
		}
		return nil, err
	}
	p.discovered = d
	return d, nil
}

// fetchDiscovery reads the provider's discovery document and sets up the
// client configuration and the ID token verifier.
func (p *Provider) fetchDiscovery(ctx context.Context) (*discovered, error) {
	provider, err := gooidc.NewProvider(ctx, p.config.Issuer)
	if err != nil {
		return nil, err
	}
	var meta struct {
		JWKSURL    string   `json:"jwks_uri"`
		Algorithms []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, err
	}
	if meta.JWKSURL == "" {
		return nil, errors.New("no jwks_uri")
	}
	// The key set fetches keys later, for other requests: it keeps only
	// the HTTP client that ctx carries (oauth2.HTTPClient), not ctx.
	keyCtx := context.Background()
	if client, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok {
		keyCtx = gooidc.ClientContext(keyCtx, client)
	}
	keys := fetchNoting{gooidc.NewRemoteKeySet(keyCtx, meta.JWKSURL)}
	return &discovered{
		provider: provider,
		oauth2: oauth2.Config{
			ClientID:     p.config.ClientID,
			ClientSecret: p.config.ClientSecret,
			Endpoint:     provider.Endpoint(),
			RedirectURL:  p.config.RedirectURL,
			Scopes:       p.config.Scopes,
		},
		verifier: gooidc.NewVerifier(p.config.Issuer, keys, &gooidc.Config{
			ClientID:             p.config.ClientID,
			SupportedSigningAlgs: signingAlgorithms(meta.Algorithms),
		}),
	}, nil
}

// signingAlgorithms are the provider's ID token algorithms that go-oidc
// verifies, as go-oidc's own Provider.Verifier picks them; none means
// RS256, the one every provider must support.
func signingAlgorithms(advertised []string) []string {
	var algs []string
	for _, a := range advertised {
		switch a {
		case gooidc.RS256, gooidc.RS384, gooidc.RS512, gooidc.ES256, gooidc.ES384, gooidc.ES512,
			gooidc.PS256, gooidc.PS384, gooidc.PS512, gooidc.EdDSA:
			algs = append(algs, a)
		}
	}
	return algs
}

// known returns the discovered provider, or the error of a discovery that
// failed less than rediscoverAfter ago, or neither.
func (p *Provider) known() (*discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered == nil && p.failed != nil && time.Since(p.failedAt) < rediscoverAfter {
		return nil, p.failed
	}
	return p.discovered, nil
}

// Identity verifies the ID token that came with token and returns its
// subject and profile claims.
func (p *Provider) Identity(ctx context.Context, token *oauth2.Token, nonce string) (oauth.Identity, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return oauth.Identity{}, err
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return oauth.Identity{}, p.invalid("the token response has no ID token")
	}
	note := &fetchNote{}
	idToken, err := d.verifier.Verify(context.WithValue(ctx, fetchNoteKey{}, note), raw)
	switch {
	case err != nil && note.err != nil:
		return oauth.Identity{}, fmt.Errorf("%w: %s: fetching its keys: %w", oauth.ErrProviderUnavailable, p.config.ID, note.err)
	case err != nil:
		return oauth.Identity{}, p.invalid(err.Error())
	case nonce == "" || subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(nonce)) != 1:
		return oauth.Identity{}, p.invalid("the ID token's nonce is not the sign-in's")
	}
	if idToken.AccessTokenHash != "" {
		if err := idToken.VerifyAccessToken(token.AccessToken); err != nil {
			return oauth.Identity{}, p.invalid(err.Error())
		}
	}
	var c claims
	if err := idToken.Claims(&c); err != nil {
		return oauth.Identity{}, p.invalid(err.Error())
	}
	// The audience check above finds the client among the audiences;
	// OpenID Connect Core 3.1.3.7 also wants it to be the authorized party
	// when there are others, and whenever azp is present.
	if (len(idToken.Audience) > 1 || c.AuthorizedParty != "") && c.AuthorizedParty != p.config.ClientID {
		return oauth.Identity{}, p.invalid(fmt.Sprintf("the ID token's authorized party is %q, not this client", c.AuthorizedParty))
	}
	id := oauth.Identity{
		ProviderUserID: idToken.Subject,
		Email:          c.Email,
		EmailVerified:  bool(c.EmailVerified),
		Name:           c.Name,
		Username:       c.PreferredUsername,
		Raw:            json.RawMessage(c.raw(idToken)),
	}
	if id.Email == "" && d.provider.UserInfoEndpoint() != "" {
		if err := p.addUserInfo(ctx, d, token, &id); err != nil {
			return oauth.Identity{}, err
		}
	}
	return id, nil
}

// addUserInfo completes id from the userinfo endpoint, whose subject must
// be the ID token's (OpenID Connect Core 5.3.2).
func (p *Provider) addUserInfo(ctx context.Context, d *discovered, token *oauth2.Token, id *oauth.Identity) error {
	info, err := d.provider.UserInfo(ctx, oauth2.StaticTokenSource(token))
	if err != nil {
		return fmt.Errorf("%w: %s: userinfo: %w", oauth.ErrProviderUnavailable, p.config.ID, err)
	}
	if info.Subject != id.ProviderUserID {
		return p.invalid("the userinfo subject is not the ID token's")
	}
	var c claims
	if err := info.Claims(&c); err != nil {
		return p.invalid(err.Error())
	}
	id.Email, id.EmailVerified = c.Email, bool(c.EmailVerified)
	if id.Name == "" {
		id.Name = c.Name
	}
	if id.Username == "" {
		id.Username = c.PreferredUsername
	}
	return nil
}

func (p *Provider) invalid(reason string) error {
	return fmt.Errorf("%w: %s: %s", oauth.ErrInvalidIdentity, p.config.ID, reason)
}

// claims are the ID token's (or userinfo's) claims Identity reads.
type claims struct {
	Email             string     `json:"email"`
	EmailVerified     stringBool `json:"email_verified"`
	Name              string     `json:"name"`
	PreferredUsername string     `json:"preferred_username"`
	AuthorizedParty   string     `json:"azp"`
}

// raw returns the ID token's claims as JSON.
func (claims) raw(t *gooidc.IDToken) []byte {
	var m json.RawMessage
	_ = t.Claims(&m) // decoded once already
	return m
}

// stringBool is a boolean claim that some providers (AWS Cognito) send as
// the string "true" or "false". Anything else reads as false: an address
// counts as verified only when the provider plainly says so.
type stringBool bool

func (b *stringBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`:
		*b = true
	default:
		*b = false
	}
	return nil
}

// fetchNoting wraps the provider's key set and notes, in the context's
// fetchNote, a failure to fetch the keys: go-oidc reports every signature
// failure as text, and a provider whose keys cannot be fetched is
// unavailable, not lying.
type fetchNoting struct{ keys gooidc.KeySet }

type fetchNoteKey struct{}

type fetchNote struct{ err error }

func (k fetchNoting) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.keys.VerifySignature(ctx, jwt)
	// The remote key set wraps (only) its fetch errors and ctx's.
	if err != nil && errors.Unwrap(err) != nil {
		if note, ok := ctx.Value(fetchNoteKey{}).(*fetchNote); ok {
			note.err = err
		}
	}
	return payload, err
}
