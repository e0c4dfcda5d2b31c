package auth

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"sync"
	"time"
)

// Session attributes are the application's data about a session: the
// device it was created on, when it was last used. They are stored with
// the session (SessionRecord.Attributes), live exactly as long as it, and
// come back on every read of it (Session.Attributes).
//
// They are typed the way user attributes are, with one difference of
// shape: the attribute type is not a type parameter of Auth but of the
// functions that read it (SessionAttributes[S]), and the calls that write
// them take a value of it (CreateSessionWithAttributes,
// UpdateSessionAttributes, Config.SessionAttributes). A second type
// parameter, Auth[A, S], would change the type of every Auth in every
// application, most of which store no session attributes, and of
// UserFromContext's callers; this way applications that never use them
// see no change, and those that do get the same struct-tag rules, checks
// and read tolerance as for users. The price is that a session attribute
// type is checked at its first use rather than by New.

// DefaultLastSeenInterval is Config.LastSeenInterval when left zero.
const DefaultLastSeenInterval = time.Hour

// sessionAttributeConfig is what Config says about session attributes.
type sessionAttributeConfig struct {
	fromRequest      func(r *http.Request) any
	lastSeen         string
	lastSeenInterval time.Duration
}

func (c *sessionAttributeConfig) setUp(config Config) error {
	c.fromRequest = config.SessionAttributes
	c.lastSeen = config.LastSeenAttribute
	c.lastSeenInterval = config.LastSeenInterval
	switch {
	case c.lastSeenInterval < 0:
		return errors.New("auth: negative LastSeenInterval")
	case c.lastSeenInterval == 0:
		c.lastSeenInterval = DefaultLastSeenInterval
	}
	if c.lastSeen != "" {
		if err := CheckSessionAttributes(map[string]any{c.lastSeen: nil}); err != nil {
			return fmt.Errorf("auth: LastSeenAttribute: %w", err)
		}
	}
	return nil
}

var sessionCodecs sync.Map // reflect.Type → sessionCodec

type sessionCodec struct {
	codec *attributeCodec
	err   error
}

// sessionCodecFor returns the codec of session attribute type t: a struct
// or map[string]any, with ReservedSessionAttributes reserved.
func sessionCodecFor(t reflect.Type) (*attributeCodec, error) {
	if cached, ok := sessionCodecs.Load(t); ok {
		c := cached.(sessionCodec)
		return c.codec, c.err
	}
	codec, err := newCodec(t, "session", ReservedSessionAttributes)
	if err != nil {
		var ie *InputError
		if !errors.As(err, &ie) {
			err = &InputError{Field: "session attribute type", Name: t.String(), Reason: "neither a struct nor map[string]any"}
		}
	}
	sessionCodecs.Store(t, sessionCodec{codec, err})
	return codec, err
}

// SessionAttributes returns the attributes of s as S: a struct whose
// fields map to attributes by the rules New documents for user attributes
// (auth tags, embedded structs, the tolerant reading of what databases
// hand back), or map[string]any for a copy of the raw attributes. An
// attribute the session does not have leaves its field at the zero value,
// so a session created without attributes, or by Lucia, gives S's zero
// value. A stored value that does not fit its field is an
// *AttributeError; a type S that cannot hold attributes, an *InputError.
func SessionAttributes[S any](s Session) (S, error) {
	var zero S
	codec, err := sessionCodecFor(reflect.TypeFor[S]())
	if err != nil {
		return zero, err
	}
	stored := s.Attributes
	if codec.raw {
		stored = maps.Clone(stored)
	}
	return decodeAttributes[S](codec, stored)
}

// storedSessionAttributes converts attributes, as CreateSessionWithAttributes
// takes them, to what the adapter stores, and checks them as every adapter
// will: nil (none) for nil, a nil pointer or an empty map.
func storedSessionAttributes(attributes any) (map[string]any, error) {
	var stored map[string]any
	switch v := attributes.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		stored = v
	default:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return nil, nil
			}
			rv = rv.Elem()
		}
		codec, err := sessionCodecFor(rv.Type())
		if err != nil {
			return nil, err
		}
		if stored, err = codec.encode(rv.Interface()); err != nil {
			return nil, err
		}
	}
	if len(stored) == 0 {
		return nil, nil
	}
	if err := CheckSessionAttributes(stored); err != nil {
		return nil, err
	}
	return stored, nil
}

// CreateSessionWithAttributes is CreateSession for a session that carries
// attributes: a struct of the application's session attribute type (its
// fields map to attributes as for user attributes, omitempty included), a
// pointer to one, or map[string]any; nil for none. Attributes that no
// adapter could store, or that the adapter's store has no room for, are
// refused with an *InputError before anything is written. With
// Config.LastSeenAttribute set, the session gets it too (unless
// attributes name it). The session is stored with one adapter call, as
// CreateSession's is.
func (a *Auth[A]) CreateSessionWithAttributes(ctx context.Context, userID string, attributes any) (Session, error) {
	stored, err := storedSessionAttributes(attributes)
	if err != nil {
		return Session{}, err
	}
	return a.createSession(ctx, userID, stored)
}

// UpdateSessionAttributes sets the given attributes of the session, named
// by its Session.ID or its token as for InvalidateSession (as
// CreateSessionWithAttributes takes them) and keeps its others, with one
// adapter write, which does not look at the session's expiry. A struct
// writes every field but omitempty fields holding their zero value. An
// unknown session, or a malformed id (refused without a database call),
// gives ErrInvalidSessionID. It needs an adapter with SessionUpdater (all
// of this module's have it); with another, it returns an error matching
// errors.ErrUnsupported.
func (a *Auth[A]) UpdateSessionAttributes(ctx context.Context, sessionID string, attributes any) error {
	stored, err := storedSessionAttributes(attributes)
	if err != nil {
		return err
	}
	id, ok := a.storedIDOf(sessionID)
	if !ok {
		return errMalformedSessionID
	}
	updater, ok := a.adapter.(SessionUpdater)
	if !ok {
		return fmt.Errorf("auth: updating session attributes needs an adapter that implements SessionUpdater: %w", errors.ErrUnsupported)
	}
	err = updater.UpdateSession(ctx, id, SessionUpdate{Attributes: stored})
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidSessionID
	}
	return err
}

// requestSessionAttributes are the attributes Config.SessionAttributes
// makes of a login request; none without it.
func (a *Auth[A]) requestSessionAttributes(r *http.Request) (map[string]any, error) {
	if a.sessions.fromRequest == nil {
		return nil, nil
	}
	return storedSessionAttributes(a.sessions.fromRequest(r))
}

// lastSeenValue is the value of the last-seen attribute at now: whole
// seconds in UTC, which every store keeps exactly.
func lastSeenValue(now time.Time) time.Time { return now.UTC().Truncate(time.Second) }

// withLastSeen returns attrs with the last-seen attribute set to now when
// one is configured and force is set or attrs lack a time for it (a
// struct field without omitempty gives a zero time). attrs is not
// changed.
func (a *Auth[A]) withLastSeen(attrs map[string]any, now time.Time, force bool) map[string]any {
	name := a.sessions.lastSeen
	if name == "" {
		return attrs
	}
	if given, ok := attrs[name].(time.Time); ok && !given.IsZero() && !force {
		return attrs
	}
	out := make(map[string]any, len(attrs)+1)
	maps.Copy(out, attrs)
	out[name] = lastSeenValue(now)
	return out
}

// lastSeenDue reports whether a validation of s at now writes the
// last-seen attribute: one is configured and the stored value is missing,
// unreadable, or LastSeenInterval old.
func (a *Auth[A]) lastSeenDue(s Session, now time.Time) bool {
	name := a.sessions.lastSeen
	if name == "" {
		return false
	}
	raw, ok := s.Attributes[name]
	if !ok {
		return true
	}
	var seen time.Time
	if err := decodeValue(raw, reflect.ValueOf(&seen).Elem(), name); err != nil || seen.IsZero() {
		return true
	}
	return now.Sub(seen) >= a.sessions.lastSeenInterval
}

// refresh does what a validation of the valid session s owes the store:
// it renews s if idle (see ValidateSession), writes the last-seen
// attribute if due, and stores the creation time of a session that has
// none (see Config.SessionMaxAge), with one SessionUpdater write for all
// three. Without SessionUpdater an idle session is renewed as a new
// session carrying its attributes and creation time, and nothing else is
// written.
func (a *Auth[A]) refresh(ctx context.Context, s Session) (Session, error) {
	now := a.now()
	idle := s.State == SessionIdle
	seen := a.lastSeenDue(s, now)
	issuedAt := s.issuedAtMillis()
	stamp := issuedAt == 0 && a.maxAge != 0
	if !idle && !seen && !stamp {
		return s, nil
	}
	updater, ok := a.adapter.(SessionUpdater)
	if !ok {
		if !idle {
			return s, nil
		}
		renewed, err := a.createSessionIssued(ctx, s.UserID, a.withLastSeen(s.Attributes, now, true), issuedAt)
		if errors.Is(err, ErrInvalidUserID) {
			// The user was deleted since the session was read: s is an
			// orphan now.
			return Session{}, a.deleteInvalid(ctx, s.ID, "orphan")
		}
		return renewed, err
	}
	rec := SessionRecord{ID: s.ID, UserID: s.UserID, ActiveExpires: s.ActiveExpires.UnixMilli(), IdleExpires: s.IdleExpires.UnixMilli(), IssuedAt: issuedAt, Attributes: s.Attributes}
	var update SessionUpdate
	if stamp {
		// Its age counts from now, its first validation here.
		rec.IssuedAt = now.UnixMilli()
		update.IssuedAt = rec.IssuedAt
		rec.ActiveExpires, rec.IdleExpires = a.capped(rec.ActiveExpires, rec.IssuedAt), a.capped(rec.IdleExpires, rec.IssuedAt)
	}
	if idle {
		rec.ActiveExpires, rec.IdleExpires = a.newExpiries(now, rec.IssuedAt)
	}
	if shorter := rec.IdleExpires != s.IdleExpires.UnixMilli(); idle || shorter {
		update.ActiveExpires, update.IdleExpires = rec.ActiveExpires, rec.IdleExpires
	}
	if seen {
		update.Attributes = map[string]any{a.sessions.lastSeen: lastSeenValue(now)}
		rec.Attributes = a.withLastSeen(s.Attributes, now, true)
	}
	err := updater.UpdateSession(ctx, s.ID, update)
	if errors.Is(err, ErrNotFound) {
		return Session{}, ErrInvalidSessionID // deleted since it was read
	}
	if err != nil {
		return Session{}, err
	}
	refreshed, _ := a.sessionFromRecord(rec, now.UnixMilli())
	// New expiry times go to the client in a new cookie.
	refreshed.Token, refreshed.Fresh = s.Token, s.Fresh || update.IdleExpires != 0
	return refreshed, nil
}
