package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SessionState is the state of a valid session.
type SessionState int

const (
	// SessionActive: within the active period; used as is.
	SessionActive SessionState = iota + 1
	// SessionIdle: past the active period but within the idle period;
	// validating it renews it (see Auth.ValidateSession).
	SessionIdle
)

func (s SessionState) String() string {
	switch s {
	case SessionActive:
		return "active"
	case SessionIdle:
		return "idle"
	}
	return "invalid"
}

// Session is a valid session.
type Session struct {
	// ID is the session's id as stored, which names it in
	// InvalidateSession and UpdateSessionAttributes: by default the
	// SHA-256 of Token in lower-case hex, which is no credential (no
	// cookie carrying it is accepted); with Config.LuciaV1, Token itself
	// (see sessionids.go).
	ID string
	// Token is the secret the client holds, the session cookie's value:
	// SessionIDLength letters and digits. It is set by the calls that
	// create or validate a session, which know it, and empty in
	// UserSessions' list: the store holds only its hash.
	Token  string
	UserID string
	// ActiveExpires ends the active period, IdleExpires the idle period
	// and with it the session.
	ActiveExpires time.Time
	IdleExpires   time.Time
	// IssuedAt is when the session was created (renewals keep it), from
	// which Config.SessionMaxAge counts; zero for a session stored without
	// it until its first validation (see Config.SessionMaxAge).
	IssuedAt time.Time
	State    SessionState
	// Fresh is true for a session created or renewed by this call
	// (CreateSession, ValidateSession): it has to be sent to the client in
	// a new cookie, with its new expiry (and, for a new session, its id).
	Fresh bool
	// Attributes are the session's attributes as stored (see
	// SessionRecord.Attributes): nil for none. Read them typed with
	// SessionAttributes.
	Attributes map[string]any
}

// issuedAtMillis is s.IssuedAt in Unix milliseconds, 0 for none.
func (s Session) issuedAtMillis() int64 {
	if s.IssuedAt.IsZero() {
		return 0
	}
	return s.IssuedAt.UnixMilli()
}

// sessionFromRecord returns the session and whether it is still valid at
// nowMillis: before its idle expiry and the end of its lifetime
// (Config.SessionMaxAge), and, where ids are hashed, stored under a hash
// (no token leads to a session stored unhashed, by Lucia or before ids
// were hashed: it is dead here).
func (a *Auth[A]) sessionFromRecord(rec SessionRecord, nowMillis int64) (Session, bool) {
	s := Session{
		ID:            rec.ID,
		UserID:        rec.UserID,
		ActiveExpires: time.UnixMilli(rec.ActiveExpires).UTC(),
		IdleExpires:   time.UnixMilli(rec.IdleExpires).UTC(),
		State:         SessionIdle,
		Attributes:    rec.Attributes,
	}
	if rec.IssuedAt != 0 {
		s.IssuedAt = time.UnixMilli(rec.IssuedAt).UTC()
	}
	if nowMillis < rec.ActiveExpires {
		s.State = SessionActive
	}
	return s, nowMillis < a.capped(rec.IdleExpires, rec.IssuedAt) && (a.luciaV1 || isSessionDigest(rec.ID))
}

// errMalformedSessionID is returned, without asking the adapter, for an id
// that cannot be a session id.
var errMalformedSessionID = fmt.Errorf("%w: malformed (not a token of 40 letters and digits, nor a session's id)", ErrInvalidSessionID)

// CreateSession creates an active session for the user: ErrInvalidUserID
// if there is no such user, also one deleted while the call runs. Unless
// Config.KeepDeadSessions is set, the user's dead sessions are deleted
// first (see DeleteDeadUserSessions), as Lucia's automatic database
// cleanup did. The session has no attributes but the last-seen one, if
// Config.LastSeenAttribute names one; see CreateSessionWithAttributes.
func (a *Auth[A]) CreateSession(ctx context.Context, userID string) (Session, error) {
	return a.createSession(ctx, userID, nil)
}

// createSession creates a session with the stored attributes attrs.
func (a *Auth[A]) createSession(ctx context.Context, userID string, attrs map[string]any) (Session, error) {
	return a.createSessionIssued(ctx, userID, attrs, 0)
}

// createSessionIssued creates a session issued at issuedAt (Unix
// milliseconds; 0 for now): a renewal as a new session keeps the renewed
// one's.
func (a *Auth[A]) createSessionIssued(ctx context.Context, userID string, attrs map[string]any, issuedAt int64) (Session, error) {
	if a.cleanup {
		if err := a.DeleteDeadUserSessions(ctx, userID); err != nil {
			return Session{}, err
		}
	}
	now := a.now()
	if issuedAt == 0 {
		issuedAt = now.UnixMilli()
	}
	token := RandomID(SessionIDLength)
	rec := SessionRecord{ID: a.storedID(token), UserID: userID, IssuedAt: issuedAt, Attributes: a.withLastSeen(attrs, now, false)}
	rec.ActiveExpires, rec.IdleExpires = a.newExpiries(now, issuedAt)
	if err := a.adapter.SetSession(ctx, rec); err != nil {
		return Session{}, err
	}
	s, _ := a.sessionFromRecord(rec, now.UnixMilli())
	s.Token, s.Fresh = token, true
	return s, nil
}

// newExpiries are the expiry times, in Unix milliseconds, of a session
// issued at issuedAt (Unix milliseconds) and created or renewed at now:
// never past the end of its lifetime (Config.SessionMaxAge).
func (a *Auth[A]) newExpiries(now time.Time, issuedAt int64) (activeExpires, idleExpires int64) {
	active := now.Add(a.activePeriod)
	return a.capped(active.UnixMilli(), issuedAt), a.capped(active.Add(a.idlePeriod).UnixMilli(), issuedAt)
}

// capped is the expiry time expires, cut to the end of the lifetime of a
// session issued at issuedAt (0: unknown, no end).
func (a *Auth[A]) capped(expires, issuedAt int64) int64 {
	if a.maxAge == 0 || issuedAt == 0 {
		return expires
	}
	return min(expires, issuedAt+a.maxAge)
}

// GetSession returns the session whose token (the cookie's value) is
// given, if it is valid, without renewing it.
// A malformed token (not SessionIDLength letters and digits) gives
// ErrInvalidSessionID without a database call; so does, after one, an
// unknown or dead session, or one whose user no longer exists (an orphan,
// left by a deletion that stopped half-way or made behind the adapter's
// back). A dead session is deleted unless Config.KeepDeadSessions is set;
// an orphan always is. The user is read with the session, in one call
// where the adapter implements SessionAndUserGetter, so GetSession costs
// what ValidateSessionUser does.
func (a *Auth[A]) GetSession(ctx context.Context, token string) (Session, error) {
	s, _, err := a.readSession(ctx, token)
	return s, err
}

// readSession reads the session of token and its user, and refuses, with
// ErrInvalidSessionID, a malformed token (without a database call), an
// unknown session, a dead one (deleted unless Config.KeepDeadSessions is
// set) and an orphan (always deleted: it would come back to life for a
// new user given its user's id).
func (a *Auth[A]) readSession(ctx context.Context, token string) (Session, UserRecord, error) {
	if !wellFormedSessionID(token) {
		return Session{}, UserRecord{}, errMalformedSessionID
	}
	s, user, err := a.readStored(ctx, a.storedID(token))
	s.Token = token
	return s, user, err
}

// readStored is readSession by the stored id.
func (a *Auth[A]) readStored(ctx context.Context, sessionID string) (Session, UserRecord, error) {
	if getter, ok := a.adapter.(SessionAndUserGetter); ok {
		rec, user, err := getter.GetSessionAndUser(ctx, sessionID)
		switch {
		case errors.Is(err, ErrNotFound) && rec.ID != "":
			// The session exists; its user does not.
			return Session{}, UserRecord{}, a.deleteInvalid(ctx, rec.ID, "orphan")
		case errors.Is(err, ErrNotFound):
			return Session{}, UserRecord{}, ErrInvalidSessionID
		case err != nil:
			return Session{}, UserRecord{}, err
		}
		s, err := a.liveSession(ctx, rec)
		return s, user, err
	}
	rec, err := a.adapter.GetSession(ctx, sessionID)
	if errors.Is(err, ErrNotFound) {
		return Session{}, UserRecord{}, ErrInvalidSessionID
	}
	if err != nil {
		return Session{}, UserRecord{}, err
	}
	s, err := a.liveSession(ctx, rec)
	if err != nil {
		return Session{}, UserRecord{}, err
	}
	user, err := a.adapter.GetUser(ctx, s.UserID)
	if errors.Is(err, ErrNotFound) {
		return Session{}, UserRecord{}, a.deleteInvalid(ctx, s.ID, "orphan")
	}
	if err != nil {
		return Session{}, UserRecord{}, err
	}
	return s, user, nil
}

// liveSession converts rec, or deletes it and reports ErrInvalidSessionID
// if it is dead.
func (a *Auth[A]) liveSession(ctx context.Context, rec SessionRecord) (Session, error) {
	s, valid := a.sessionFromRecord(rec, a.nowMillis())
	if valid {
		return s, nil
	}
	if !a.cleanup {
		return Session{}, ErrInvalidSessionID
	}
	return Session{}, a.deleteInvalid(ctx, rec.ID, "dead")
}

// deleteInvalid deletes a session the core refuses, a dead one or an
// orphan (what says which), and returns ErrInvalidSessionID, with the
// deletion's error if it failed: the session is invalid either way.
func (a *Auth[A]) deleteInvalid(ctx context.Context, sessionID, what string) error {
	if err := a.adapter.DeleteSession(ctx, sessionID); err != nil {
		return fmt.Errorf("%w (deleting the %s session failed: %w)", ErrInvalidSessionID, what, err)
	}
	return ErrInvalidSessionID
}

// ValidateSession returns the session whose token is given if it is
// valid: an active session as is, an idle one renewed. Renewal gives the session new expiry times, as
// if it had just been created, and returns it with Fresh set: the client
// must be sent a new cookie (Middleware does that).
//
// With an adapter that implements SessionUpdater (all of this module's
// do), the session is renewed in place, under the same id, as later Lucia
// versions do: however many requests carrying one idle session arrive at
// once, they leave one session. A session deleted (logged out, its user
// deleted) between its read and its renewal gives ErrInvalidSessionID.
// Without SessionUpdater, renewal creates a new session with a new id, as
// Lucia v1 did, and the old one is left to expire so that concurrent
// requests still carrying it keep working; each concurrent validation of
// an idle session then creates a session of its own.
//
// A renewed session keeps its attributes, in place or as a new session.
// With Config.LastSeenAttribute, the validation also writes the time of
// use when the stored one is due (see Config), in the same write as a
// renewal.
//
// Invalid ids and sessions give ErrInvalidSessionID, as for GetSession,
// orphans included: the session's user is read with it, so ValidateSession
// costs what ValidateSessionUser does (one adapter call with a
// SessionAndUserGetter) and refuses what it refuses.
func (a *Auth[A]) ValidateSession(ctx context.Context, token string) (Session, error) {
	s, _, err := a.readSession(ctx, token)
	if err != nil {
		return Session{}, err
	}
	return a.refresh(ctx, s)
}

// ValidateSessionUser is ValidateSession that also returns the session's
// user. With an adapter that implements SessionAndUserGetter, session and
// user are read in one call. A session whose user no longer exists gives
// ErrInvalidSessionID and is deleted.
func (a *Auth[A]) ValidateSessionUser(ctx context.Context, token string) (Session, User[A], error) {
	s, userRec, err := a.readSession(ctx, token)
	if err != nil {
		return Session{}, User[A]{}, err
	}
	user, err := a.userFromRecord(userRec)
	if err != nil {
		return Session{}, User[A]{}, err
	}
	if s, err = a.refresh(ctx, s); err != nil {
		return Session{}, User[A]{}, err
	}
	return s, user, nil
}

// UserSessions returns the user's valid sessions and, unless
// Config.KeepDeadSessions is set, deletes the dead ones. A user that does
// not exist gives ErrInvalidUserID, also one deleted while the call runs
// (in another request, say): the user is read after the sessions, so the
// list is never that of a user already gone. Treat it as logged out. The
// sessions of a user that is gone are orphans, and are deleted.
func (a *Auth[A]) UserSessions(ctx context.Context, userID string) ([]Session, error) {
	now := a.nowMillis()
	live, dead, err := a.userSessions(ctx, userID, now)
	if err != nil {
		return nil, err
	}
	if _, err := a.adapter.GetUser(ctx, userID); errors.Is(err, ErrNotFound) {
		if len(live)+len(dead) > 0 {
			if err := a.adapter.DeleteSessionsByUserID(ctx, userID); err != nil {
				return nil, fmt.Errorf("%w (deleting the orphan sessions failed: %w)", ErrInvalidUserID, err)
			}
		}
		return nil, ErrInvalidUserID
	} else if err != nil {
		return nil, err
	}
	if a.cleanup && len(dead) > 0 {
		if err := a.deleteDeadSessions(ctx, userID, now, dead); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// userSessions reads the user's sessions and sorts them into those valid
// at now and the dead ones.
func (a *Auth[A]) userSessions(ctx context.Context, userID string, now int64) (live []Session, dead []SessionRecord, err error) {
	recs, err := a.adapter.GetSessionsByUserID(ctx, userID)
	if err != nil {
		return nil, nil, err
	}
	live = make([]Session, 0, len(recs))
	for _, rec := range recs {
		if s, valid := a.sessionFromRecord(rec, now); valid {
			live = append(live, s)
		} else {
			dead = append(dead, rec)
		}
	}
	return live, dead, nil
}

// deleteDeadSessions deletes the user's sessions dead at now, dead being
// them as read: those past their idle expiry with one command where the
// adapter has one (ExpiredSessionDeleter), the others (dead for another
// reason, see sessionFromRecord) and those of an adapter without it one
// by one.
func (a *Auth[A]) deleteDeadSessions(ctx context.Context, userID string, now int64, dead []SessionRecord) error {
	deleter, oneCommand := a.adapter.(ExpiredSessionDeleter)
	if oneCommand && slices.ContainsFunc(dead, func(rec SessionRecord) bool { return rec.IdleExpires <= now }) {
		if err := deleter.DeleteExpiredSessions(ctx, userID, now); err != nil {
			return err
		}
	}
	for _, rec := range dead {
		if oneCommand && rec.IdleExpires <= now {
			continue
		}
		if err := a.adapter.DeleteSession(ctx, rec.ID); err != nil {
			return err
		}
	}
	return nil
}

// DeleteDeadUserSessions deletes the user's dead sessions: with one
// adapter call where the adapter implements ExpiredSessionDeleter (all of
// this module's do), otherwise by reading the user's sessions and deleting
// the dead ones one by one.
func (a *Auth[A]) DeleteDeadUserSessions(ctx context.Context, userID string) error {
	now := a.nowMillis()
	if deleter, ok := a.adapter.(ExpiredSessionDeleter); ok {
		return deleter.DeleteExpiredSessions(ctx, userID, now)
	}
	_, dead, err := a.userSessions(ctx, userID, now)
	if err != nil {
		return err
	}
	return a.deleteDeadSessions(ctx, userID, now, dead)
}

// InvalidateSession deletes the session (logs it out), named by its
// Session.ID or by its token (the cookie's value), which it hashes where
// ids are hashed: the two cannot be taken for one another. Invalidating an
// unknown session is not an error; a string that is neither gives
// ErrInvalidSessionID without a database call.
func (a *Auth[A]) InvalidateSession(ctx context.Context, sessionID string) error {
	id, ok := a.storedIDOf(sessionID)
	if !ok {
		return errMalformedSessionID
	}
	return a.adapter.DeleteSession(ctx, id)
}

// InvalidateUserSessions deletes all of the user's sessions (logs the user
// out everywhere).
func (a *Auth[A]) InvalidateUserSessions(ctx context.Context, userID string) error {
	return a.adapter.DeleteSessionsByUserID(ctx, userID)
}
