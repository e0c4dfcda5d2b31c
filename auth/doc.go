// Package auth is Lucia v1-style authentication: users, keys and sessions
// over a storage adapter.
//
// A user is an id plus the application's own attributes. A key is a way to
// identify a user, named "providerID:providerUserID" ("username:ann",
// "github:4711"), optionally with a password; a single-use key (a one-time
// login link, say) carries an expiry and is deleted when used. A session is
// what a browser holds after logging in: a random 40-character token (stored
// as its SHA-256, see "Session ids at rest") with two expiry times. Until the first (active period, 1 day by default) the session
// is simply valid; until the second (idle period, 14 more days) it is still
// valid but is renewed when used: it gets new expiry times, under the same
// id where the adapter can update sessions in place (SessionUpdater), as a
// new session otherwise; after that it is dead and is deleted when met.
// However often it is renewed, a session ends 30 days after it was created
// (Config.SessionMaxAge).
//
// Auth holds the logic; an Adapter (such as the MongoDB adapter in the
// parent module) stores the records. The type parameter of Auth is the
// application's user attribute struct; see New for how its fields map to
// stored attributes.
//
// The HTTP side (cookies, CSRF protection, middleware, login and logout
// helpers) is in the same package and uses only net/http.
//
// A complete login, with any adapter of this module:
//
//	type Profile struct {
//		Username string `auth:"username"`
//	}
//
//	a, err := auth.New[Profile](adapter, auth.Config{}) // zero Config = Lucia's defaults
//
//	// Sign-up: the user and its username key are stored together, or neither.
//	user, err := a.CreateUser(ctx, Profile{Username: "ann"},
//		&auth.KeyParams{ProviderID: "username", ProviderUserID: "ann", Password: password})
//	if errors.Is(err, auth.ErrDuplicateKeyID) { /* username taken; no user was created */ }
//
//	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
//		_, err := a.LogIn(w, r, "username", r.FormValue("username"), r.FormValue("password"))
//		// ErrInvalidKeyID and ErrInvalidPassword: show one message for both
//	})
//	mux.Handle("GET /me", a.RequireUser(meHandler)) // auth.UserFromContext[Profile](r.Context())
//	http.ListenAndServe(":8080", a.Middleware(mux))  // sessions from the cookie, CSRF check
//
// # Configuration
//
// [Config] is a plain struct; every zero field means a default, and each
// field's documentation has the details:
//
//   - ActivePeriod, IdlePeriod: 24 h, then 14 days. A new session is active
//     for ActivePeriod, then idle (still valid, renewed when used) for
//     IdlePeriod, then dead.
//   - SessionMaxAge: 30 days ([DefaultSessionMaxAge], OWASP ASVS 3.3.2); the
//     absolute lifetime, whatever the renewals; negative: none.
//   - LuciaV1: false; true sets every choice a database shared with a Lucia v1
//     application needs (unhashed session ids, [LuciaScrypt], Lucia's cookie
//     name); see "Running beside Lucia v1".
//   - GenerateUserID: 15 random characters a–z0–9.
//   - PasswordHasher: &[Argon2id]{}, argon2id with OWASP's parameters, which
//     also verifies Lucia's scrypt hashes and upgrades them; [LuciaScrypt]
//     beside a Lucia application (see "Running beside Lucia v1" below).
//   - MaxConcurrentHashes, MaxHashWait: GOMAXPROCS and 1 s; how many hashes
//     and verifications run at once, and how long a call waits for a slot
//     before [ErrBusy].
//   - MinFailedLoginTime: measured; the least time a failed login takes, by
//     default the slowest kind of hash's verification time + 10 %.
//   - KeyThrottle, ClientThrottle, ReauthThrottle, SignUpThrottle:
//     [DefaultKeyThrottle], [DefaultClientThrottle], [DefaultReauthThrottle],
//     [DefaultSignUpThrottle]; failures per key, per client, per session
//     (Reauthenticate) and sign-ups per client, each healing with time.
//   - ThrottleStore: [NewMemoryThrottleStore](0), records in this process, at
//     most 100,000 of them; the adapters' stores share them between
//     instances.
//   - ClientKey: [ClientIP]; names a LogIn or SignUp request's client (its
//     IP; IPv6 by /64); behind a proxy, package auth/clientip.
//   - KeepDeadSessions: false, so that dead sessions are deleted when met and
//     when the user gets a new session (Lucia's auto cleanup).
//   - SessionAttributes: none; a func(*http.Request) any giving the
//     attributes LogIn and StartSession store with a new session. Without it
//     nothing about the request is stored.
//   - LastSeenAttribute, LastSeenInterval: none and 1 h; a session attribute
//     that validation keeps at the time of last use, written at most once per
//     interval.
//   - Now: time.Now, the clock (tests move it).
//   - Development: false; true drops the cookie's Secure flag and HSTS, and
//     names the cookie auth_session (plain-HTTP development only).
//   - CookieName, CookiePath, CookieDomain: "__Host-auth_session" in
//     production ("auth_session" in Development, with a Domain or Path, and
//     with LuciaV1), "/", none.
//   - HSTSMaxAge: a year; the Strict-Transport-Security header Middleware
//     sends in production; negative: none.
//   - CookieSameSite: Lax; Strict allowed, None refused.
//   - TrustedOrigins: none; extra origins allowed to send state-changing
//     requests.
//   - ErrorHandler: [WriteError] (403, 401 or 500 with the status text, and
//     503 or 429 with Retry-After for [ErrBusy] and [ErrThrottled]); how the
//     middleware answers refused requests.
//
// # Users and keys
//
// A key id is providerID + ":" + providerUserID. An empty password means "no
// password": an OAuth identity, or a one-time login link made single-use with
// [KeyParams].ExpiresIn. [Auth.UseKey] returns [ErrInvalidKeyID] (unknown
// key), [ErrInvalidPassword], [ErrExpiredKey] or [ErrOutdatedPassword] (a
// bcrypt hash: the user must set a new password; a login form should answer
// it as a wrong password, since it tells that the key exists), and, as
// [*LimitError] values, [ErrThrottled] (too many failures for this key) or
// [ErrBusy] (no hashing slot in time). A single-use key is deleted when used; of two concurrent
// uses only one succeeds, with every adapter in this module (they implement
// [KeyConsumer], an atomic delete-and-report). [Auth.DeleteKey] never deletes
// a primary key, and [Auth.DeleteUser] deletes the user's keys and sessions
// with it.
//
// A login that goes on to a session should use [Auth.UseKeyAndCreateSession]
// (or [Auth.LogIn]): after creating the session it reads the key again and,
// if the password was changed meanwhile, deletes the session and fails with
// [ErrInvalidPassword]. So once a password change followed by
// [Auth.InvalidateUserSessions] returns, no login that checked the old
// password keeps a session; UseKey followed by your own CreateSession has no
// such guarantee. A key or user deleted during the login gives
// [ErrInvalidKeyID], as an unknown username does.
//
// # Attributes
//
// The attribute struct's fields map to stored attributes by their tags:
// `auth:"name"` names the stored attribute, `auth:"-"` skips a field,
// untagged exported fields use the field name, embedded structs are
// flattened, and omitempty leaves zero values out of CreateUser and
// UpdateUser (with pointer fields, nil means "leave unchanged"). Supported:
// bool, string, all ints and floats, time.Time, []byte, slices, string-keyed
// maps, nested structs, pointers, any; New[map[string]any] gives raw
// attributes. Reading is tolerant of what databases hand back (numbers as
// int64 or float64, times as RFC 3339 text, bytes as base64 text); anything
// else is an [*AttributeError] naming the attribute ("homes[1].city"), never
// a silent zero. [New] refuses attribute types no database could store, and
// [CheckAttributes] states the rules for names.
//
// # Sessions
//
// A session is active for ActivePeriod after it is created, then idle for
// IdlePeriod, then dead. Validating an idle session ([Auth.ValidateSession],
// [Auth.ValidateSessionUser], and so [Auth.Middleware]) renews it in place,
// as later Lucia versions do: same id, new expiry times, [Session].Fresh true
// (so the middleware resends the cookie); concurrent requests carrying one
// idle session leave one session, and a session logged out meanwhile stays
// out. This needs [SessionUpdater], which every adapter in this module
// implements; with an adapter without it, renewal creates a new session as
// Lucia v1 did (one per concurrent request).
//
// Absolute lifetime. A session is dead [Config].SessionMaxAge (30 days) after
// its creation ([Session].IssuedAt, which renewals keep), and the user signs
// in again; renewals never set its expiry times, and so its cookie, past that
// end. Every adapter stores the creation time (issued_at). A session stored
// without one, by Lucia v1 or an earlier version of this module, counts its
// age from its first validation by this core, which stores the time then: a
// Lucia session first seen today lives at most 30 more days here (Lucia
// itself enforces no such limit, and a session Lucia renews is a new one,
// seen afresh). A shorter SessionMaxAge applies to sessions already stored.
// A negative SessionMaxAge turns the limit off, as in Lucia v1, where a
// session used within every idle period never ends.
//
// [Auth.UserSessions] lists a user's valid sessions (a "your devices" page)
// and gives [ErrInvalidUserID] for a user deleted meanwhile (treat it as
// logged out). Every call that returns a session reads its user too (in one
// adapter call with a [SessionAndUserGetter]) and refuses a session whose
// user is gone, an orphan left by a deletion that stopped half-way or made
// behind the adapter's back, with [ErrInvalidSessionID] or
// [ErrInvalidUserID], and deletes it, whatever Config.KeepDeadSessions says. Dead sessions of a user are deleted with one command where
// the adapter implements [ExpiredSessionDeleter]. A dead session gives
// [ErrInvalidSessionID] and is deleted. A session id that is not 40 letters
// and digits is rejected without a database call.
//
// # Session ids at rest
//
// The cookie holds a session's token, 40 random characters; the store holds
// only its SHA-256 in lower-case hex ([Session].ID), as Lucia v3 and the
// Copenhagen Book do, so that whoever reads the sessions (a backup, a
// read-only account, a leaked dump) cannot send any of them back: a cookie is
// looked up by its hash, and a hash sent as a cookie is not a token. The
// calls that take a token say so (GetSession, ValidateSession,
// ValidateSessionUser); [Auth.InvalidateSession] and
// [Auth.UpdateSessionAttributes] take a Session.ID (what [Auth.UserSessions]
// lists) or a token. Hashing costs a few hundred nanoseconds a validation
// (cmd/authbench prints it next to a validation's time).
//
// Sessions stored before ids were hashed (by an earlier version of this
// module) hold their token as their id; no cookie reaches them any more, so
// their users sign in once again after the upgrade, and UserSessions deletes
// them when it meets them (they expire, and the MongoDB adapter's Repair and
// TTL index remove the others). Config.LuciaV1 stores tokens as they are,
// because Lucia v1 reads sessions by the token.
//
// # Session attributes
//
// A session can carry attributes of its own, for a "your devices" page: the
// browser, when it signed in, when it was last seen. They take the same
// struct tags, value types and read tolerance as user attributes:
//
//	type Device struct {
//		Browser  string    `auth:"browser"`
//		Created  time.Time `auth:"created_at"`
//		LastSeen time.Time `auth:"last_seen,omitempty"`
//	}
//
//	a, err := auth.New[Profile](adapter, auth.Config{
//		SessionAttributes: func(r *http.Request) any { // at LogIn and StartSession
//			return Device{Browser: browserOf(r.UserAgent()), Created: time.Now()}
//		},
//		LastSeenAttribute: "last_seen", // validation keeps it current, at most hourly (LastSeenInterval)
//	})
//	device, err := auth.SessionAttributes[Device](session)              // any Session: context, UserSessions, ...
//	session, err := a.CreateSessionWithAttributes(ctx, user.ID, device) // without HTTP
//	err = a.UpdateSessionAttributes(ctx, session.ID, map[string]any{"trusted": true}) // one write; others kept
//
// [Session].Attributes holds them raw (nil for none); [SessionAttributes]
// reads them typed, its type parameter being a struct or map[string]any. The
// type is a parameter of that function, not a second one of Auth: New[A] and
// every *Auth[A] keep their signature, so applications without session
// attributes see no change; a session attribute type is checked at its first
// use rather than by New. Names follow the rules of user attributes, and may
// not be the session's own fields on any adapter
// ([ReservedSessionAttributes]: id, _id, __v, user_id, active_expires,
// idle_expires, expires_at, __user); a refused name or value is an
// [*InputError] before anything is written.
//
// A renewal keeps a session's attributes, in place or, without
// [SessionUpdater], in the new session. With [Config].LastSeenAttribute, a new
// session gets the time at creation, and a validation writes it again only
// when the stored time is LastSeenInterval old: one update, joined with the
// renewal's when both are due, so most requests stay at one read (without
// SessionUpdater it is written at creation and renewal only). Creating a
// session with attributes costs what creating one without does. A session
// written without attributes, by Lucia v1 or an older version of this
// module, reads back with none. The MongoDB adapter keeps them as top-level
// fields of the session document; the SQL adapters in a JSON column or
// columns of the session table.
//
// Privacy. Session attributes describe where and how a person uses your app,
// so store only what the page shows. Nothing is stored unless you ask
// (Config.SessionAttributes, [Auth.CreateSessionWithAttributes]). They live
// exactly as long as their session: logout, expiry cleanup, DeleteUser, the
// MongoDB adapter's Repair and its TTL index delete them with it (a session
// that nobody uses again lingers, dead, until one of those runs: run Repair
// or turn on the adapter's SessionTTL). IP addresses are personal data in
// many jurisdictions (the GDPR's, for one): store one only if the page needs
// it, perhaps truncated, and name it in your privacy notice. A full
// User-Agent string helps fingerprint a browser; the example app
// (examples/webapp) stores the browser's and system's names instead. Never
// put a session id into a page: the example names sessions by an HMAC of the
// id.
//
// # Passwords
//
// New hashes are argon2id in PHC format, $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
// (OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane; 16-byte salt,
// 32-byte hash), of the NFKC-normalized password; see [Argon2id]. Hashes
// written by Lucia v1 keep working: "s2:<salt>:<hex>" (scrypt N=16384, r=16,
// p=1, 64 bytes, NFKC) and the older two-part "<salt>:<hex>" (r=8). A
// successful login with one of them stores an argon2id hash in its place, by
// compare-and-set ([KeyPasswordReplacer]): only if the key still holds the
// hash just checked, so that a login never writes back a password changed
// meanwhile. The MongoDB adapter declines this on FerretDB, whose updates are
// not atomic: hashes are not upgraded there. While a Lucia application shares
// the database, Config.LuciaV1 uses [LuciaScrypt] instead: it writes Lucia's
// s2 format and keeps every stored hash. "$2a…" bcrypt hashes give [ErrOutdatedPassword],
// as in Lucia.
//
// Passwords that are not valid UTF-8 or contain NUL are refused with an
// [*InputError] by every call that takes one, before hashing: NFKC and
// Lucia's formats cannot treat them consistently. The hasher is an interface
// ([PasswordHasher]); [InsecureFastHasher] exists for tests and benchmarks
// only. The test vectors for Lucia's formats were made with Node's
// crypto.scryptSync, those for argon2id with the C reference library.
//
// Differences from Lucia v1, on purpose: s2 hashes are verified against the
// NFKC form of the password (Lucia verified the raw input, so a password
// that NFKC changes could never log in again); a password given for a key
// without one is refused (Lucia ignored it); a database error during
// validation does not log the user out; a failed CSRF check is refused with
// 403 rather than treated as logged out.
//
// # HTTP, cookies and CSRF
//
// [Auth.Middleware] refuses state-changing requests that fail the CSRF check
// (403), validates the session cookie, puts the session and user into the
// request context ([SessionFromContext], [UserFromContext]), sends a new
// cookie when the session was renewed, clears the cookie when no session is
// valid, and answers 500, without logging anyone out, when the database
// fails. [Auth.RequireUser] answers 401 without a user.
//
// [Auth.LogIn] uses a key and starts a session; [Auth.StartSession] starts
// one for a user you authenticated yourself (after sign-up or OAuth); both
// always issue a new session id, invalidate the sessions the request came
// with, and set the cookie. LogIn has the password-change guarantee of
// UseKeyAndCreateSession; if the user was deleted meanwhile, it fails as for
// an unknown key ([ErrInvalidKeyID], also matching [ErrInvalidUserID]),
// StartSession with [ErrInvalidUserID], and both clear the cookie. LogIn
// also throttles per client (Config.ClientKey): answer [ErrThrottled] with
// 429 and [ErrBusy] with 503, each with [SetRetryAfter]; [WriteError]
// answers every error of LogIn so (401 for the failed logins). [Auth.LogOut] ends
// the request's sessions and clears the cookie. Lower level:
// [Auth.SessionID], [Auth.SetSessionCookie], [Auth.ClearSessionCookie],
// [Auth.CheckOrigin].
//
// The cookie is, in production (the zero Config),
//
//	__Host-auth_session=<token>; Path=/; Max-Age=<seconds to the idle expiry>; HttpOnly; Secure; SameSite=Lax
//
// Browsers refuse a __Host- cookie unless it is Secure, has Path=/ and no
// Domain, so no sibling subdomain can plant or overwrite a session cookie.
// Where those rules cannot hold, the default name is auth_session:
// Config.Development (plain HTTP, without Secure; New refuses a __Host- name
// there, since no browser would keep it), a CookieDomain or CookiePath of
// the application's, and Config.LuciaV1, whose apps share Lucia's
// auth_session cookie. Upgrading from a version that named it auth_session
// signs everyone in once more (so does hashing session ids).
//
// HSTS. In production every response that goes through Middleware carries
// Strict-Transport-Security: max-age=31536000 ([Config].HSTSMaxAge; negative
// turns it off), without includeSubDomains or preload, which only the
// domain's owner can decide: set the header yourself before Middleware runs
// for those, and it is kept. Production mode means the site is served over
// HTTPS only (the cookie is Secure); browsers ignore the header over plain
// HTTP, so a TLS-terminating proxy in front is fine.
//
// Several session cookies. Without __Host-, a sibling subdomain can plant an
// auth_session cookie for the parent domain with a longer Path, which the
// browser sends before the app's own. The middleware looks up the distinct
// well-formed ids in the order they came, at most [MaxSessionCookies] (4),
// and uses the first valid session; [Auth.SessionID] then returns that
// cookie's id (outside the middleware: the first well-formed one). When one
// is valid nothing is cleared; when none is, the app's own cookie is cleared
// (a planted cookie with another Path or Domain cannot be deleted by the app
// and is skipped at every request). LogOut and StartSession invalidate the
// sessions of all those cookies. More planted cookies than the bound, or a
// planted valid session of the attacker's own account sent first, still win:
// only __Host- stops those.
//
// CSRF ([Auth.CheckOrigin], run by Middleware, LogIn, StartSession and
// LogOut) is Go's net/http.CrossOriginProtection with Config.TrustedOrigins
// as trusted origins, plus a scheme check that the standard library leaves
// out; CheckOrigin's documentation has the three steps (Sec-Fetch-Site, then
// Origin against Host, then neither header: a non-browser client, which
// passes). GET, HEAD and OPTIONS pass (their handlers must not change
// state). A refusal is an [*OriginError] (matching [ErrInvalidRequest]).
// Trusted origins are validated by New and written as browsers send them
// ("HTTPS://App.Example:443" becomes "https://app.example"). Behind a proxy
// that rewrites Host, older browsers are refused unless the public origin is
// trusted. Mount endpoints that must accept cross-site posts (webhooks)
// outside the middleware.
//
// # Failed-login timing
//
// Every failed login takes the same time, whatever failed: unknown key, wrong
// or missing password, a password for a key without one, a bcrypt or
// unreadable hash, a throttled attempt. Failures are held (without a hashing
// slot) until a floor, 10 % above the upper quartile of the slowest kind of
// hash's recent verification times; the first login measures the hasher's
// own format and both Lucia scrypt formats, so the floor covers a format
// before any real login meets it, and formats seen only then scale with the
// load the hasher's own format shows. Failures that verify nothing verify a
// dummy hash, so their CPU cost is alike too. With the default hasher the
// floor is about the cost of an s2 verification (80–300 ms on the machine
// the benchmarks ran on, by load; BenchmarkFailedLoginTiming measures it).
// [Config].MinFailedLoginTime raises the floor. Show users one message for
// [ErrInvalidKeyID] and [ErrInvalidPassword].
//
// # Hashing bound
//
// argon2id with m=19456 KiB, t=2, p=1 (OWASP) and a constant-time comparison
// costs 27-37 ms of CPU and 19 MiB per login, a Lucia s2 hash 65-153 ms and
// 32 MiB (2 cores; go test -run '^$' -bench PasswordHash ./bench).
// At most [Config].MaxConcurrentHashes (default GOMAXPROCS) hashes run at
// once, dummy ones and sign-ups included; a call waits at most
// Config.MaxHashWait (1 s, 16 waiters per slot), and a login beyond slots
// plus waiters is refused before it reads its key; either way [ErrBusy]
// (answer 503 with Retry-After: [SetRetryAfter], or [WriteError], the default
// Config.ErrorHandler). Memory for hashing is then at most about 32 MiB ×
// slots. A hash upgrade after a successful login is skipped, not failed,
// when no slot is free. Stored hashes asking for more than 2 GiB or 64
// iterations are treated as corrupt.
//
// # Login throttling
//
// Failed logins are counted per key (provider + user id, whether or not the
// key exists; [Config].KeyThrottle) and, through LogIn, per client
// (Config.ClientThrottle, the client named by Config.ClientKey, default the
// connection's IP, IPv6 by /64). [Auth.Reauthenticate], which confirms a
// signed-in user's password, counts per session instead
// (Config.ReauthThrottle), and [Auth.SignUp] counts sign-ups per client
// (Config.SignUpThrottle).
//
// Every record heals with time, whatever else happens: each counted
// attempt adds MaxDelay to the record's debt and time pays it back, and an
// attempt gets through while the debt it leaves is at most FreeFailures ×
// MaxDelay ([ThrottlePolicy] has the rule). Per key ([DefaultKeyThrottle]):
// 10 free failures, then one per 15 minutes. Per client
// ([DefaultClientThrottle]): 100, then one a minute. Per session
// ([DefaultReauthThrottle]): 5, then one per 15 minutes. Sign-ups
// ([DefaultSignUpThrottle]): 20 per client, then one per 3 minutes. So in
// any hour an attacker gets at most 14 guesses per username and 160 per
// address (106 and 1,540 in any day), however the attempts are timed or
// spread over concurrent requests and instances sharing a store.
//
// Attempts count when they start, so a burst gets no more verifications
// than the free ones. A refused attempt reads and hashes nothing, takes the
// failure time, counts nowhere, and gives [ErrThrottled] (a [*LimitError]
// with RetryAfter) whether or not the key exists. A success, and an
// attempt that reached no verdict ([ErrBusy], a storage or context error),
// is taken back: it never lengthens a wait, and a success takes off only
// its own attempt (an attacker cannot reset an address by logging into
// their own account).
//
// Lockout trade-off: anyone can lock a username by spending its 10 free
// failures, and keep it locked with one attempt per 15 minutes; LogIn and
// UseKey are then refused to its owner too, but Reauthenticate is not, so
// the owner can still change the password. KeyThrottle.MaxDelay bounds
// the lock (lower it to favour availability, raise FreeFailures for less
// lockout, or disable it and rely on the client throttle).
//
// Throttle state: the default, [MemoryThrottleStore], counts only what this
// process serves (with N instances an attacker gets N allowances), is lost
// on restart, and holds at most 100,000 records (about 20 MB with 64-byte
// keys: go test -run '^$' -bench MemoryThrottleStoreFull ./auth), dropping
// the least recently updated first. Several instances share a [ThrottleStore]
// over their database: the MongoDB adapter's and the SQL adapter's each
// apply an attempt with one atomic command. Package auth/throttletest is
// the conformance suite for stores of your own.
//
// Clients behind proxies: behind a reverse proxy every request comes from
// the proxy's address, so all clients would share one record. Package
// auth/clientip makes a Config.ClientKey that reads the address your
// trusted proxies report, and ignores the forwarding headers of anyone
// else. Per-client limits do not stop a botnet; per-key limits do.
//
// # Running beside Lucia v1
//
// A Go application can share its database with a running Lucia v1
// application (lucia-auth 1.x), so that users move between the two, or the
// whole app moves to Go, without anyone being logged out. One setting makes
// it so:
//
//	a, err := auth.New[Profile](adapter, auth.Config{LuciaV1: true})
//
// It stores session ids unhashed (Lucia looks sessions up by the token; see
// "Session ids at rest"), hashes passwords with [LuciaScrypt], and names the
// cookie auth_session, as Lucia does. [Config].PasswordHasher set to
// LuciaScrypt, this setting's spelling before LuciaV1, implies it.
//
// The rehash policy, in one line: the default hasher ([Argon2id]) replaces
// every other hash with argon2id at the user's next login, for a database
// only Go uses; [LuciaScrypt] writes only hashes Lucia can verify
// ("s2:<salt>:<hex>", made exactly as Lucia 1.8 makes them) and never
// replaces a stored hash, so it never downgrades an argon2id hash either.
//
// What both sides can do:
//
//   - Users: each reads the other's users and attributes; Lucia's user and
//     session ids contain upper-case letters, Go's are a–z0–9, both accept
//     both.
//   - Passwords: under LuciaScrypt, a user signed up or given a new password
//     on either side logs in on both, and no login changes what the other
//     side verifies.
//   - Sessions: each validates the other's sessions; an idle session is
//     renewed by whichever side sees it (Go extends it in place, keeping its
//     id; Lucia v1 creates a new session and leaves the old one valid until
//     its idle expiry), and the other side accepts the result as active;
//     dead sessions are refused and deleted by either; logging out on one
//     side ends the session on the other. Lucia reads only its four session
//     fields, so it ignores session attributes, and the sessions it creates
//     or renews have none.
//   - Cookie: the same auth_session cookie (HttpOnly, SameSite=Lax, Path=/),
//     LuciaV1's default name, so two apps on one site share the login.
//
// What differs:
//
//   - A password sent for a key without one (an OAuth key, a passwordless
//     sign-up): Lucia ignores it and logs the user in; Go refuses it with
//     [ErrInvalidPassword].
//   - Both hash the NFKC form of a password, but Lucia verifies the password
//     as typed: a password NFKC changes (full-width letters, ligatures,
//     decomposed accents) logs in from Go only, whichever side hashed it.
//   - A user whose hash is already argon2id (Go ran with the default hasher
//     before) logs in from Go only until the password is set again through
//     LuciaScrypt ([Auth.UpdateKeyPassword] writes s2). Under the default
//     hasher, every Go login makes that so: Lucia then answers
//     AUTH_INVALID_PASSWORD.
//   - Both judge expiry by their own clock; keep the servers' clocks in sync.
//   - Ids: Go accepts at most [MaxIDLength] (2048) bytes; Lucia sets no
//     limit, and where a schema holds less, the database refuses longer ids
//     for both (see package sqlauth).
//
// Migration path: share the database with LuciaV1; move traffic to Go;
// when Lucia no longer serves anyone, drop the setting: each user's next
// login then upgrades the hash to argon2id, and session ids are hashed
// from then on (so everyone signs in once more). The
// storage side (collection and table shapes) is documented by package
// mongoauth and package sqlauth.
//
// # Errors
//
// The sentinels are [*Error] values carrying Lucia's error code
// ("AUTH_INVALID_USER_ID", ...); test for them with errors.Is. The adapter
// errors ([ErrNotFound], [ErrInvalidUserID], [ErrInvalidKeyID], the
// duplicate-id errors, [ErrDuplicateValue], [ErrInvalidInput]) are shared by
// every adapter; the core adds [ErrInvalidSessionID], [ErrInvalidPassword],
// [ErrExpiredKey], [ErrOutdatedPassword], [ErrInvalidRequest] and
// [ErrNotAuthenticated], and the limits [ErrBusy] and [ErrThrottled]. A
// unique index of your own (an email) that refuses a value gives a
// [*DuplicateValueError], never a taken id.
//
// # Security notes
//
//   - Session and user ids. Session tokens are 40 characters of a-z0-9 from
//     crypto/rand by rejection sampling (every character equally likely):
//     about 206 bits. They are bearer credentials and are stored as their
//     SHA-256 (unhashed with LuciaV1); the adapters' reports and errors
//     print only the first six characters of a stored id and a short SHA-256
//     digest of it. User ids (15 characters, about 77 bits) only need to be
//     unique. Malformed tokens never reach the database.
//   - Cookie flags. HttpOnly keeps the id from scripts, Secure keeps it off
//     plain HTTP, SameSite=Lax keeps it off cross-site subrequests and POSTs,
//     Max-Age ends it with the session. The __Host- prefix, the production
//     default, stops planted cookies; without it (a Domain, LuciaV1) a
//     sibling subdomain can plant session cookies; a planted
//     invalid one is skipped (up to 4 cookies are tried), but a planted valid
//     session of the attacker's own account, sent first, logs the victim into
//     it.
//   - CSRF. net/http.CrossOriginProtection (Sec-Fetch-Site, then Origin
//     against Host) plus a scheme check, on top of SameSite=Lax; it covers
//     login forms too (login CSRF), and every login issues a fresh session id
//     (no session fixation). Requests with neither header (non-browser
//     clients) pass. Behind a TLS-terminating proxy the scheme is checked by
//     the browser (Sec-Fetch-Site) and, for older browsers, only in
//     production mode; HSTS, which Middleware sends in production, covers
//     what is left.
//   - Renewal and password changes. Idle sessions are renewed in place (same
//     id, new expiry), so parallel requests after a long absence do not create
//     phantom sessions. A login upgrades an old hash only by compare-and-set,
//     and LogIn and UseKeyAndCreateSession re-read the key after creating the
//     session: a password change followed by "log out everywhere" always wins
//     over a login with the old password. A user deleted during a request is
//     reported as a typed error ([ErrInvalidKeyID], [ErrInvalidUserID],
//     [ErrInvalidSessionID]), never a storage error.
//   - Revocation. An adapter's DeleteSession returning an error means the
//     session may still exist; retry. An orphan session left by a crash is
//     refused and deleted when it is met (and the MongoDB adapter's Repair
//     removes the rest); one met only after its user id was given to a new
//     user would belong to that user, which is why generated user ids are
//     random.
package auth
