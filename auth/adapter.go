package auth

import "context"

// UserRecord is a user as an adapter stores it: the application's id plus
// any attribute fields. Attribute values read back from an adapter are
// normalized to nil, bool, string, int64 (every integer type), float64,
// time.Time (UTC), []byte, []any or map[string]any, so that applications see
// the same values whichever database is behind the adapter.
type UserRecord struct {
	ID         string
	Attributes map[string]any
}

// SessionRecord is a session as an adapter stores it. Both expiry times are
// Unix milliseconds, as in Lucia v1: the session is active while now is
// before ActiveExpires and valid (active or idle) while now is before
// IdleExpires.
type SessionRecord struct {
	ID            string
	UserID        string
	ActiveExpires int64
	IdleExpires   int64
	// IssuedAt is when the session was created, in Unix milliseconds
	// (renewals keep it), for Config.SessionMaxAge; 0 for a session
	// stored without it, by Lucia v1 or an earlier version of this
	// module. Adapters store it as issued_at.
	IssuedAt int64
	// Attributes are the application's data about the session (the device
	// it was created on, when it was last used), with the value types of
	// UserRecord.Attributes and the names CheckSessionAttributes allows.
	// They are nil for a session without attributes, also one written
	// without them by Lucia v1 or an older version of this module; an
	// empty map is stored as none. An adapter that keeps them in columns
	// of their own reads every column back, nil where empty, as it does
	// for users. One whose store has no place for them refuses a session
	// with attributes with an *InputError and stores nothing.
	Attributes map[string]any
}

// KeyRecord is a key as an adapter stores it. ID is
// "providerID:providerUserID". HashedPassword is nil for keys without a
// password (OAuth logins, for example). Expires is nil for persistent keys
// and holds Unix milliseconds for single-use keys.
type KeyRecord struct {
	ID             string
	UserID         string
	HashedPassword *string
	PrimaryKey     bool
	Expires        *int64
}

// hash is the key's password hash, "" for none.
func (r KeyRecord) hash() string {
	if r.HashedPassword == nil {
		return ""
	}
	return *r.HashedPassword
}

// UserAdapter stores users and keys. It mirrors Lucia v1's user adapter.
//
// Implementations must be safe for concurrent use. Reads of a missing record
// return an error matching ErrNotFound. Arguments that could never be stored
// (an empty id, a malformed attribute name) are rejected with an error
// matching ErrInvalidInput before anything is written.
type UserAdapter interface {
	// GetUser returns the user, or ErrNotFound.
	GetUser(ctx context.Context, userID string) (UserRecord, error)

	// SetUser creates the user and, when key is not nil, its key together:
	// if the key id is taken the call fails with ErrDuplicateKeyID and no
	// user is left behind. A taken user id fails with ErrDuplicateUserID.
	// A value refused by another unique index (one the application added
	// on an attribute) fails with an error matching ErrDuplicateValue, a
	// *DuplicateValueError, and nothing is stored.
	SetUser(ctx context.Context, user UserRecord, key *KeyRecord) error

	// DeleteUser removes the user with all its sessions and keys. Deleting a
	// missing user is not an error.
	DeleteUser(ctx context.Context, userID string) error

	// UpdateUser sets the given attributes (other attributes are kept) and
	// returns the updated user, or ErrInvalidUserID if there is no such user.
	// A value refused by a unique index fails as in SetUser, changing
	// nothing.
	UpdateUser(ctx context.Context, userID string, attributes map[string]any) (UserRecord, error)

	// SetKey creates a key: ErrInvalidUserID if its user does not exist,
	// ErrDuplicateKeyID if the id is taken.
	SetKey(ctx context.Context, key KeyRecord) error

	// GetKey returns the key, or ErrNotFound.
	GetKey(ctx context.Context, keyID string) (KeyRecord, error)

	// GetKeysByUserID returns the user's keys; an unknown user has none.
	GetKeysByUserID(ctx context.Context, userID string) ([]KeyRecord, error)

	// UpdateKeyPassword replaces the key's password hash (nil removes it)
	// and returns the updated key, or ErrInvalidKeyID if there is no such key.
	UpdateKeyPassword(ctx context.Context, keyID string, hashedPassword *string) (KeyRecord, error)

	// DeleteNonPrimaryKey deletes the key unless it is a primary key.
	// Deleting a missing key is not an error.
	DeleteNonPrimaryKey(ctx context.Context, keyID string) error

	// DeleteKeysByUserID deletes all of the user's keys, primary ones too.
	DeleteKeysByUserID(ctx context.Context, userID string) error
}

// SessionAdapter stores sessions. It mirrors Lucia v1's session adapter and
// follows the same rules as UserAdapter.
type SessionAdapter interface {
	// GetSession returns the session, or ErrNotFound. It does not check
	// expiry; that is the caller's business.
	GetSession(ctx context.Context, sessionID string) (SessionRecord, error)

	// GetSessionsByUserID returns the user's sessions, expired ones included;
	// an unknown user has none.
	GetSessionsByUserID(ctx context.Context, userID string) ([]SessionRecord, error)

	// SetSession creates a session: ErrInvalidUserID if its user does not
	// exist, ErrDuplicateSessionID if the id is taken. A session created
	// while its user is being deleted either fails with ErrInvalidUserID or
	// is removed by that deletion; it never outlives its user. Attribute
	// names are checked with CheckSessionAttributes before anything is
	// written.
	SetSession(ctx context.Context, session SessionRecord) error

	// DeleteSession deletes the session; a missing session is not an error.
	DeleteSession(ctx context.Context, sessionID string) error

	// DeleteSessionsByUserID deletes all of the user's sessions.
	DeleteSessionsByUserID(ctx context.Context, userID string) error
}

// SessionAndUserGetter is implemented by adapters that read a session and
// its user in one call (one round trip where the database allows).
type SessionAndUserGetter interface {
	// GetSessionAndUser returns the session and its user, or ErrNotFound
	// when either is missing. When the session exists but its user does
	// not (an orphan session), it returns the session record with the
	// error, so that the core can delete it.
	GetSessionAndUser(ctx context.Context, sessionID string) (SessionRecord, UserRecord, error)
}

// KeyConsumer is implemented by adapters that can use up a single-use key
// atomically. The core uses it when present: of two concurrent logins with
// one single-use key, only the one whose ConsumeKey deleted the key
// succeeds. Without it the core falls back to GetKey plus
// DeleteNonPrimaryKey, which cannot tell the two apart.
type KeyConsumer interface {
	// ConsumeKey deletes the key unless it is a primary key. It returns
	// ErrNotFound unless this very call deleted it: when there was no such
	// non-primary key, or a concurrent call deleted it first.
	ConsumeKey(ctx context.Context, keyID string) error
}

// KeyPasswordReplacer is implemented by adapters that can replace a key's
// password hash on condition, atomically. The core uses it to store an
// upgraded hash after a login (see Auth.UseKey): only the very hash the
// login verified may be replaced, never one that a password change stored
// meanwhile. Without it the core does not upgrade hashes at all.
type KeyPasswordReplacer interface {
	// ReplaceKeyPassword sets the key's hash to newHash if, at that moment,
	// the stored hash is exactly oldHash: a compare-and-set, atomic with
	// respect to every other write to the key. It returns an error matching
	// ErrNotFound unless this call replaced the hash: when there is no such
	// key, or its hash is not oldHash (changed or removed). Both hashes must
	// be non-empty. An adapter that cannot make the swap atomic on the
	// database it is connected to returns an error matching
	// errors.ErrUnsupported and writes nothing.
	ReplaceKeyPassword(ctx context.Context, keyID, oldHash, newHash string) error
}

// SessionUpdate holds new values for a stored session. Expiry times are
// Unix milliseconds, as in SessionRecord; a zero field leaves that value
// unchanged.
type SessionUpdate struct {
	ActiveExpires int64
	IdleExpires   int64
	// IssuedAt sets SessionRecord.IssuedAt (the core stores it once for
	// a session that lacks it).
	IssuedAt int64
	// Attributes sets the named session attributes and keeps the others,
	// as UpdateUser does for users; nil or empty changes none. Names and
	// values follow SessionRecord.Attributes.
	Attributes map[string]any
}

// SessionUpdater is implemented by adapters that can change a stored
// session in place. The core uses it to renew an idle session under its own
// id (as later Lucia versions do), so that concurrent requests carrying
// one idle session do not each create a new one.
type SessionUpdater interface {
	// UpdateSession applies update to the session in one write. It never
	// creates a session: a missing session gives an error matching
	// ErrNotFound. Attributes that the store could not hold are refused as
	// in SetSession, and then nothing changes, expiry times included.
	UpdateSession(ctx context.Context, sessionID string, update SessionUpdate) error
}

// ExpiredSessionDeleter is implemented by adapters that can delete a
// user's dead sessions with one command. The core uses it for its
// automatic cleanup (DeleteDeadUserSessions, CreateSession, UserSessions);
// without it, it reads the user's sessions and deletes the dead ones one
// by one.
type ExpiredSessionDeleter interface {
	// DeleteExpiredSessions deletes the user's sessions whose idle expiry
	// is at or before nowMillis (Unix milliseconds): those that are dead at
	// that time. Other sessions, and other users' sessions, are kept.
	DeleteExpiredSessions(ctx context.Context, userID string, nowMillis int64) error
}

// Adapter stores users, keys and sessions in one database.
type Adapter interface {
	UserAdapter
	SessionAdapter
}
