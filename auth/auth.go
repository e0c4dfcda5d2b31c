package auth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Default session periods, as in Lucia v1.
const (
	DefaultActivePeriod = 24 * time.Hour
	DefaultIdlePeriod   = 14 * 24 * time.Hour
)

// DefaultSessionMaxAge is Config.SessionMaxAge when left zero: the
// absolute session lifetime of OWASP ASVS 3.3.2 (level 1).
const DefaultSessionMaxAge = 30 * 24 * time.Hour

// Default session cookie names (see Config.CookieName). DefaultCookieName
// is Lucia's; HostCookieName is the production default, whose prefix
// makes browsers refuse the cookie unless it is Secure, has Path=/ and no
// Domain, so that no sibling subdomain can plant or overwrite it.
const (
	DefaultCookieName = "auth_session"
	HostCookieName    = "__Host-" + DefaultCookieName
)

// DefaultHSTSMaxAge is Config.HSTSMaxAge when left zero: a year, as
// browsers' HSTS preload lists ask at least.
const DefaultHSTSMaxAge = 365 * 24 * time.Hour

// Config configures an Auth. The zero value is ready to use: every field
// documents its default.
type Config struct {
	// ActivePeriod is how long a new session is active; default 1 day.
	ActivePeriod time.Duration
	// IdlePeriod is how long a session stays valid after its active period
	// ends; default 14 days. A session used during its idle period is
	// renewed; one not used by then is dead.
	IdlePeriod time.Duration
	// SessionMaxAge is a session's absolute lifetime: one created longer
	// ago is dead whatever its renewals, and its user signs in again.
	// Default DefaultSessionMaxAge (30 days, OWASP ASVS 3.3.2); negative:
	// none, as in Lucia v1, where a session used within every idle period
	// lives forever. Renewals never extend a session past it, so its
	// expiry times and cookie end with it too. It applies to sessions
	// stored before it was set or changed. A session stored without a
	// creation time (by Lucia v1, or an earlier version of this module)
	// counts its age from its first validation here, which stores that
	// time (with SessionUpdater; without, from its renewal as a new
	// session).
	SessionMaxAge time.Duration

	// GenerateUserID returns the id of a new user. The default draws
	// UserIDLength characters from IDAlphabet with crypto/rand. The id
	// must pass CheckID.
	GenerateUserID func(ctx context.Context) (string, error)

	// LuciaV1 sets the core up to share its database with a running Lucia
	// v1 JavaScript application (lucia-auth 1.x): every choice that
	// differs from a Go-only deployment, in one setting (see "Running
	// beside Lucia v1" in the package documentation):
	//
	//   - session ids are stored as the token itself, as Lucia stores and
	//     looks them up, instead of its SHA-256;
	//   - PasswordHasher defaults to LuciaScrypt{}: only hashes Lucia can
	//     verify are written, and no stored hash is replaced;
	//   - CookieName defaults to "auth_session", Lucia's, in production
	//     too.
	//
	// A PasswordHasher of LuciaScrypt, the setting that stood for this
	// before LuciaV1 existed, implies LuciaV1.
	LuciaV1 bool

	// PasswordHasher hashes and verifies key passwords. The default is
	// &Argon2id{}: argon2id with OWASP's parameters for new hashes, and
	// verification of Lucia's scrypt hashes, which are replaced by argon2id
	// hashes at the next successful login; with LuciaV1 it is
	// LuciaScrypt{}.
	PasswordHasher PasswordHasher

	// MaxConcurrentHashes bounds how many password hashes and
	// verifications the core runs at once (logins, including the dummy
	// verifications for unknown keys, sign-ups, password changes, hash
	// upgrades). Each argon2id one holds 19 MiB and a Lucia scrypt one
	// 32 MiB for tens of milliseconds, so without a bound a flood of logins
	// takes memory without limit. Default runtime.GOMAXPROCS(0) at New:
	// hashing is CPU-bound, so more at once adds memory and latency, not
	// throughput. Negative: no bound. Hashes of new passwords (sign-ups,
	// new keys, password changes) may hold at most half of the slots
	// (rounded up), and wait for them in a queue of their own, so that a
	// flood of sign-ups cannot starve logins.
	MaxConcurrentHashes int
	// MaxHashWait is how long a call waits for a free hashing slot before
	// it fails with ErrBusy (a *LimitError); default 1 s, negative: no
	// wait. At most 16 callers per slot wait; further calls fail at once,
	// and so do further logins, before they read their key.
	MaxHashWait time.Duration
	// MinFailedLoginTime is the least time a failed login (unknown key,
	// wrong password, outdated hash, throttled attempt) takes. Failures
	// are always held at least as long as the slowest kind of hash takes
	// to verify, plus 10 %: the time of each kind (the hasher's own format
	// and Lucia's two scrypt formats) is measured at the first login and
	// then from real logins, following the machine's load. Set this if
	// your hasher verifies formats the core cannot measure in advance.
	MinFailedLoginTime time.Duration

	// KeyThrottle limits failed logins per key (provider id plus provider
	// user id), whether or not the key exists, so that refusals tell
	// nothing about which keys exist; it applies to LogIn, UseKey and
	// UseKeyAndCreateSession. ClientThrottle limits LogIn's failures per
	// client (Config.ClientKey), over every key: password spraying from
	// one address. ReauthThrottle limits Reauthenticate per session, and
	// SignUpThrottle limits SignUp per client. Zero fields take the values
	// of DefaultKeyThrottle (10 free failures, then one per 15 minutes),
	// DefaultClientThrottle (100, then one a minute), DefaultReauthThrottle
	// (5, then one per 15 minutes) and DefaultSignUpThrottle (20 sign-ups,
	// then one per 3 minutes). Every record heals with time; see
	// ThrottlePolicy for the rule, the bound on guessing it gives, and the
	// trade-off of key locks.
	KeyThrottle    ThrottlePolicy
	ClientThrottle ThrottlePolicy
	ReauthThrottle ThrottlePolicy
	SignUpThrottle ThrottlePolicy
	// ThrottleStore keeps the throttle records; default
	// NewMemoryThrottleStore(0), in this process only. Several instances
	// of an application share a store over their database instead:
	// mongoauth.Adapter.ThrottleStore or sqlauth.Adapter.ThrottleStore.
	ThrottleStore ThrottleStore
	// ClientKey names the client of a LogIn or SignUp request for
	// ClientThrottle and SignUpThrottle; "" exempts the request. Default
	// ClientIP, the address of the connection: behind a reverse proxy,
	// use package auth/clientip, which reads the address your trusted
	// proxies report.
	ClientKey func(r *http.Request) string

	// KeepDeadSessions turns off Lucia's automatic database cleanup. By
	// default a dead session is deleted when it is read, and a user's dead
	// sessions are deleted whenever a session is created for that user.
	// Orphan sessions (whose user is gone) are deleted when read either
	// way.
	KeepDeadSessions bool

	// SessionAttributes, when set, gives each session that LogIn and
	// StartSession create its attributes, made from the login request:
	// what the application wants to show on a "your devices" page, such
	// as the browser (from the User-Agent header), the client's address
	// (as the application determines it behind its proxies) or the time
	// of login. It returns what CreateSessionWithAttributes takes (a
	// struct, map[string]any, or nil for none). The default stores
	// nothing about the request: attributes describe a person's devices
	// and whereabouts, so store only what the page needs (see the package
	// documentation on privacy).
	SessionAttributes func(r *http.Request) any
	// LastSeenAttribute names a session attribute that ValidateSession
	// and ValidateSessionUser (so Middleware) keep at the time of the
	// session's latest use, to within LastSeenInterval, as a time.Time in
	// UTC, whole seconds; a new session gets it at creation. Default ""
	// keeps none. A validation writes it only when the stored value is
	// LastSeenInterval old or more (one adapter write, joined with a
	// renewal's), so that most validations stay a single read. It needs
	// an adapter with SessionUpdater; New refuses a name no session
	// attribute may take (CheckSessionAttributes).
	LastSeenAttribute string
	// LastSeenInterval is how stale LastSeenAttribute may get before a
	// validation writes it again; default DefaultLastSeenInterval (1 h).
	LastSeenInterval time.Duration

	// Now returns the current time; default time.Now. Tests set it to move
	// sessions and keys through their expiry without sleeping.
	Now func() time.Time

	// Development drops the Secure flag from the session cookie so that it
	// works over plain HTTP on hosts other than localhost, names it
	// "auth_session" and sends no Strict-Transport-Security. The default
	// (false, production) is for a site served over HTTPS only, by this
	// process or a TLS-terminating proxy. Never set it in production:
	// without Secure the browser sends the session token over unencrypted
	// connections.
	Development bool
	// CookieName is the session cookie's name. The default in production
	// is HostCookieName, "__Host-auth_session": browsers refuse a
	// "__Host-" cookie unless it is Secure, has Path=/ and no Domain, so
	// that no sibling subdomain can plant its own session cookie. Where
	// that cannot hold, the default is DefaultCookieName,
	// "auth_session": in Development (browsers keep no Secure cookie from
	// plain HTTP, and New refuses a "__Host-" name there), with a
	// CookieDomain or a CookiePath other than "/", and with LuciaV1 (Lucia
	// v1's name, so that both apps share the login). New checks that the
	// configuration allows a name's prefix.
	CookieName string
	// CookieDomain is the cookie's Domain attribute; default none, so the
	// cookie goes back only to the host that set it.
	CookieDomain string
	// CookiePath is the cookie's Path attribute; default "/".
	CookiePath string
	// CookieSameSite is the cookie's SameSite attribute: Lax (the default)
	// or Strict. None is refused, because it would send the session cookie
	// with cross-site requests.
	CookieSameSite http.SameSite
	// HSTSMaxAge is the max-age of the Strict-Transport-Security header
	// that Middleware adds to every response in production, so that
	// browsers use HTTPS only for the host from then on (and a network
	// attacker cannot strip it to plain HTTP); default DefaultHSTSMaxAge
	// (a year), negative: no header. A header set before Middleware runs
	// (by an outer handler, say with includeSubDomains or preload, which
	// the core cannot decide for the domain) is kept. Browsers ignore it
	// over plain HTTP, and Development sends none.
	HSTSMaxAge time.Duration

	// TrustedOrigins lists origins, besides the request's own, from which
	// state-changing requests are accepted (see CheckOrigin):
	// "https://app.example.com" or "http://localhost:5173" (scheme, host
	// and port; no path). New refuses anything else and stores them as
	// browsers write the Origin header (lower case, no default port),
	// which must then match exactly.
	TrustedOrigins []string

	// ErrorHandler writes the response when Middleware or RequireUser
	// stops a request: err matches ErrInvalidRequest (failed CSRF check),
	// ErrNotAuthenticated (RequireUser without a session), or is a storage
	// error. The default, WriteError, answers 403, 401 and 500
	// respectively, with the status text as body, and never reveals the
	// error to the client. An error matching ErrBusy or ErrThrottled (a
	// *LimitError) gets 503 or 429 with a Retry-After header.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

// Auth is the authentication core. It is safe for concurrent use. A is the
// application's user attribute type; see New.
type Auth[A any] struct {
	adapter    Adapter
	attributes *attributeCodec
	sessions   sessionAttributeConfig

	activePeriod   time.Duration
	idlePeriod     time.Duration
	generateUserID func(ctx context.Context) (string, error)
	// hasher is Config.PasswordHasher under the bound on concurrent
	// hashing (hashlimit.go).
	hasher  *limitedHasher
	cleanup bool
	now     func() time.Time
	// luciaV1 is Config.LuciaV1: session ids are stored unhashed.
	luciaV1 bool
	// maxAge is Config.SessionMaxAge in milliseconds; 0 for none.
	maxAge int64

	secureCookie   bool
	cookieName     string
	cookieDomain   string
	cookiePath     string
	cookieSameSite http.SameSite
	// hsts is the Strict-Transport-Security value Middleware sends; ""
	// for none.
	hsts           string
	crossOrigin    *http.CrossOriginProtection
	trustedOrigins map[string]bool // as browsers write them
	errorHandler   func(w http.ResponseWriter, r *http.Request, err error)

	// timing holds failed logins to a common floor (timing.go).
	timing *loginTiming
	// throttle slows down repeated failed logins (throttle.go).
	throttle  *throttle
	clientKey func(r *http.Request) string
	// noAtomicRehash is set once the adapter has declined a compare-and-set
	// of a hash (keyuse.go): logins then stop upgrading hashes.
	noAtomicRehash atomic.Bool
}

// New returns an Auth over adapter.
//
// A is the application's user attribute type: a struct, or map[string]any
// to handle raw attributes. Struct fields map to attributes like this:
//
//   - `auth:"name"` stores the field as attribute "name"; `auth:"-"` skips
//     it; an exported field without the tag uses the field name as is.
//     Unexported fields are skipped. An embedded struct without a tag
//     contributes its fields as if they were the outer struct's.
//   - `auth:"name,omitempty"` leaves the attribute out of CreateUser and
//     UpdateUser when the field holds its zero value: with a pointer field,
//     nil then means "do not change".
//   - Field types: bool, string, every integer and float type, time.Time,
//     []byte, slices, maps with string keys, structs (stored as nested
//     documents), pointers to these, and any.
//
// Reading is tolerant of how a database hands values back: an integer field
// accepts int64 and whole float64 values in its range, a float field int64
// values, a time.Time field RFC 3339 strings, a []byte field base64 strings
// (JSON's encoding of bytes). A missing or null attribute leaves the field
// at its zero value and attributes without a field are ignored. Any other
// mismatch is an *AttributeError naming the attribute.
//
// New fails if the configuration is inconsistent or A has a field that
// could not be stored (an unsupported type, a reserved or malformed
// attribute name, two fields with one name).
func New[A any](adapter Adapter, config Config) (*Auth[A], error) {
	if adapter == nil {
		return nil, errors.New("auth: nil adapter")
	}
	codec, err := newAttributeCodec[A]()
	if err != nil {
		return nil, err
	}
	a := &Auth[A]{
		adapter:        adapter,
		attributes:     codec,
		activePeriod:   config.ActivePeriod,
		idlePeriod:     config.IdlePeriod,
		generateUserID: config.GenerateUserID,
		cleanup:        !config.KeepDeadSessions,
		now:            config.Now,
		secureCookie:   !config.Development,
		cookieName:     config.CookieName,
		cookieDomain:   config.CookieDomain,
		cookiePath:     config.CookiePath,
		cookieSameSite: config.CookieSameSite,
		errorHandler:   config.ErrorHandler,
	}
	if err := a.sessions.setUp(config); err != nil {
		return nil, err
	}
	switch {
	case a.activePeriod < 0 || a.idlePeriod < 0:
		return nil, errors.New("auth: negative session period")
	case a.activePeriod == 0:
		a.activePeriod = DefaultActivePeriod
	}
	if a.idlePeriod == 0 {
		a.idlePeriod = DefaultIdlePeriod
	}
	switch maxAge := config.SessionMaxAge; {
	case maxAge == 0:
		a.maxAge = DefaultSessionMaxAge.Milliseconds()
	case maxAge > 0:
		a.maxAge = max(maxAge.Milliseconds(), 1)
	}
	if a.generateUserID == nil {
		a.generateUserID = func(context.Context) (string, error) { return RandomID(UserIDLength), nil }
	}
	hasher := config.PasswordHasher
	a.luciaV1 = config.LuciaV1 || isLuciaScrypt(hasher)
	switch {
	case hasher != nil:
	case a.luciaV1:
		hasher = LuciaScrypt{}
	default:
		hasher = &Argon2id{}
	}
	a.timing = newLoginTiming(config.MinFailedLoginTime)
	a.hasher = newLimitedHasher(hasher, config, a.timing)
	if a.now == nil {
		a.now = time.Now
	}
	a.throttle = &throttle{
		store:  config.ThrottleStore,
		key:    config.KeyThrottle.withDefaults(DefaultKeyThrottle),
		client: config.ClientThrottle.withDefaults(DefaultClientThrottle),
		reauth: config.ReauthThrottle.withDefaults(DefaultReauthThrottle),
		signUp: config.SignUpThrottle.withDefaults(DefaultSignUpThrottle),
		now:    a.now,
	}
	if a.throttle.store == nil {
		a.throttle.store = NewMemoryThrottleStore(0)
	}
	a.clientKey = config.ClientKey
	if a.clientKey == nil {
		a.clientKey = ClientIP
	}
	if a.errorHandler == nil {
		a.errorHandler = WriteError
	}
	if err := a.setUpCookie(); err != nil {
		return nil, err
	}
	if maxAge := config.HSTSMaxAge; !config.Development && maxAge >= 0 {
		if maxAge == 0 {
			maxAge = DefaultHSTSMaxAge
		}
		a.hsts = "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10)
	}
	if err := a.setUpOriginCheck(config.TrustedOrigins); err != nil {
		return nil, err
	}
	return a, nil
}

// Adapter returns the adapter a was made with.
func (a *Auth[A]) Adapter() Adapter { return a.adapter }

// nowMillis is the current time in Unix milliseconds, the unit of stored
// expiry times.
func (a *Auth[A]) nowMillis() int64 { return a.now().UnixMilli() }
