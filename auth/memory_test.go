package auth_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/auth/adaptertest"
)

// memoryAdapter is an in-memory auth.Adapter and auth.SessionAndUserGetter
// for tests. It passes the conformance suite (TestMemoryAdapterConformance),
// so tests of the core against it test against the contract.
type memoryAdapter struct {
	mu       sync.Mutex
	users    map[string]auth.UserRecord
	sessions map[string]auth.SessionRecord
	keys     map[string]auth.KeyRecord
}

var (
	_ auth.Adapter               = (*memoryAdapter)(nil)
	_ auth.SessionAndUserGetter  = (*memoryAdapter)(nil)
	_ auth.KeyConsumer           = (*memoryAdapter)(nil)
	_ auth.KeyPasswordReplacer   = (*memoryAdapter)(nil)
	_ auth.SessionUpdater        = (*memoryAdapter)(nil)
	_ auth.ExpiredSessionDeleter = (*memoryAdapter)(nil)
)

func newMemoryAdapter() *memoryAdapter {
	return &memoryAdapter{
		users:    map[string]auth.UserRecord{},
		sessions: map[string]auth.SessionRecord{},
		keys:     map[string]auth.KeyRecord{},
	}
}

func TestMemoryAdapterConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) auth.Adapter { return newMemoryAdapter() })
}

// TestBareMemoryAdapterConformance runs the suite on the memory adapter
// without its optional interfaces, as the core meets an adapter that has
// none: the groups of the optional interfaces skip, the orphan sessions
// group runs the core's fallbacks.
func TestBareMemoryAdapterConformance(t *testing.T) {
	adaptertest.Run(t, func(t *testing.T) auth.Adapter {
		m := newMemoryAdapter()
		return bareMemory{withoutGetter{m}, m}
	})
}

// bareMemory is withoutGetter that keeps the suite's store hook.
type bareMemory struct {
	withoutGetter
	m *memoryAdapter
}

func (b bareMemory) RemoveUserRecord(ctx context.Context, userID string) error {
	return b.m.RemoveUserRecord(ctx, userID)
}

// RemoveUserRecord deletes the user alone, leaving its sessions and keys
// (adaptertest.UserRecordRemover).
func (m *memoryAdapter) RemoveUserRecord(ctx context.Context, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, userID)
	return nil
}

// normalize deep-copies an attribute value into the adapter contract's
// normalized types, as a real adapter's round trip does.
func normalize(v any) any {
	switch x := v.(type) {
	case nil, bool, string, int64, float64:
		return x
	case time.Time:
		return x.UTC()
	case []byte:
		return slices.Clone(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.CanInt():
		return rv.Int()
	case rv.CanUint():
		return int64(rv.Uint())
	case rv.CanFloat():
		return rv.Float()
	}
	panic("memoryAdapter: unsupported attribute type " + rv.Type().String())
}

func copyUser(u auth.UserRecord) auth.UserRecord {
	attrs := map[string]any{}
	for k, v := range u.Attributes {
		attrs[k] = normalize(v)
	}
	return auth.UserRecord{ID: u.ID, Attributes: attrs}
}

// copySession deep-copies a session, with attributes normalized as a real
// adapter reads them: nil when there are none.
func copySession(s auth.SessionRecord) auth.SessionRecord {
	if len(s.Attributes) == 0 {
		s.Attributes = nil
		return s
	}
	attrs := make(map[string]any, len(s.Attributes))
	for k, v := range s.Attributes {
		attrs[k] = normalize(v)
	}
	s.Attributes = attrs
	return s
}

func copyKey(k auth.KeyRecord) auth.KeyRecord {
	if k.HashedPassword != nil {
		h := *k.HashedPassword
		k.HashedPassword = &h
	}
	if k.Expires != nil {
		e := *k.Expires
		k.Expires = &e
	}
	return k
}

// enter checks ids (given as field, id pairs) and the context, then locks
// the store; the caller defers the returned unlock.
func (m *memoryAdapter) enter(ctx context.Context, fieldsAndIDs ...string) (unlock func(), err error) {
	for i := 0; i < len(fieldsAndIDs); i += 2 {
		if err := auth.CheckID(fieldsAndIDs[i], fieldsAndIDs[i+1]); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	return m.mu.Unlock, nil
}

func (m *memoryAdapter) GetUser(ctx context.Context, userID string) (auth.UserRecord, error) {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return auth.UserRecord{}, err
	}
	defer unlock()
	u, ok := m.users[userID]
	if !ok {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	return copyUser(u), nil
}

func (m *memoryAdapter) SetUser(ctx context.Context, user auth.UserRecord, key *auth.KeyRecord) error {
	if err := auth.CheckAttributes(user.Attributes); err != nil {
		return err
	}
	ids := []string{"user id", user.ID}
	if key != nil {
		if key.UserID != user.ID {
			return &auth.InputError{Field: "key", Reason: "belongs to another user"}
		}
		ids = append(ids, "key id", key.ID)
	}
	unlock, err := m.enter(ctx, ids...)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := m.users[user.ID]; ok {
		return auth.ErrDuplicateUserID
	}
	if key != nil {
		if _, ok := m.keys[key.ID]; ok {
			return auth.ErrDuplicateKeyID
		}
		m.keys[key.ID] = copyKey(*key)
	}
	m.users[user.ID] = copyUser(user)
	return nil
}

func (m *memoryAdapter) DeleteUser(ctx context.Context, userID string) error {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return err
	}
	defer unlock()
	delete(m.users, userID)
	maps.DeleteFunc(m.sessions, func(_ string, s auth.SessionRecord) bool { return s.UserID == userID })
	maps.DeleteFunc(m.keys, func(_ string, k auth.KeyRecord) bool { return k.UserID == userID })
	return nil
}

func (m *memoryAdapter) UpdateUser(ctx context.Context, userID string, attributes map[string]any) (auth.UserRecord, error) {
	if err := auth.CheckAttributes(attributes); err != nil {
		return auth.UserRecord{}, err
	}
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return auth.UserRecord{}, err
	}
	defer unlock()
	u, ok := m.users[userID]
	if !ok {
		return auth.UserRecord{}, auth.ErrInvalidUserID
	}
	u = copyUser(u)
	for k, v := range attributes {
		u.Attributes[k] = normalize(v)
	}
	m.users[userID] = u
	return copyUser(u), nil
}

func (m *memoryAdapter) SetKey(ctx context.Context, key auth.KeyRecord) error {
	unlock, err := m.enter(ctx, "key id", key.ID, "user id", key.UserID)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := m.users[key.UserID]; !ok {
		return auth.ErrInvalidUserID
	}
	if _, ok := m.keys[key.ID]; ok {
		return auth.ErrDuplicateKeyID
	}
	m.keys[key.ID] = copyKey(key)
	return nil
}

func (m *memoryAdapter) GetKey(ctx context.Context, keyID string) (auth.KeyRecord, error) {
	unlock, err := m.enter(ctx, "key id", keyID)
	if err != nil {
		return auth.KeyRecord{}, err
	}
	defer unlock()
	k, ok := m.keys[keyID]
	if !ok {
		return auth.KeyRecord{}, auth.ErrNotFound
	}
	return copyKey(k), nil
}

func (m *memoryAdapter) GetKeysByUserID(ctx context.Context, userID string) ([]auth.KeyRecord, error) {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	keys := []auth.KeyRecord{}
	for _, k := range m.keys {
		if k.UserID == userID {
			keys = append(keys, copyKey(k))
		}
	}
	return keys, nil
}

func (m *memoryAdapter) UpdateKeyPassword(ctx context.Context, keyID string, hashedPassword *string) (auth.KeyRecord, error) {
	unlock, err := m.enter(ctx, "key id", keyID)
	if err != nil {
		return auth.KeyRecord{}, err
	}
	defer unlock()
	k, ok := m.keys[keyID]
	if !ok {
		return auth.KeyRecord{}, auth.ErrInvalidKeyID
	}
	k.HashedPassword = hashedPassword
	k = copyKey(k)
	m.keys[keyID] = k
	return copyKey(k), nil
}

func (m *memoryAdapter) DeleteNonPrimaryKey(ctx context.Context, keyID string) error {
	unlock, err := m.enter(ctx, "key id", keyID)
	if err != nil {
		return err
	}
	defer unlock()
	if k, ok := m.keys[keyID]; ok && !k.PrimaryKey {
		delete(m.keys, keyID)
	}
	return nil
}

func (m *memoryAdapter) ConsumeKey(ctx context.Context, keyID string) error {
	unlock, err := m.enter(ctx, "key id", keyID)
	if err != nil {
		return err
	}
	defer unlock()
	if k, ok := m.keys[keyID]; !ok || k.PrimaryKey {
		return auth.ErrNotFound
	}
	delete(m.keys, keyID)
	return nil
}

func (m *memoryAdapter) DeleteKeysByUserID(ctx context.Context, userID string) error {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return err
	}
	defer unlock()
	maps.DeleteFunc(m.keys, func(_ string, k auth.KeyRecord) bool { return k.UserID == userID })
	return nil
}

func (m *memoryAdapter) GetSession(ctx context.Context, sessionID string) (auth.SessionRecord, error) {
	unlock, err := m.enter(ctx, "session id", sessionID)
	if err != nil {
		return auth.SessionRecord{}, err
	}
	defer unlock()
	s, ok := m.sessions[sessionID]
	if !ok {
		return auth.SessionRecord{}, auth.ErrNotFound
	}
	return copySession(s), nil
}

func (m *memoryAdapter) GetSessionsByUserID(ctx context.Context, userID string) ([]auth.SessionRecord, error) {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	sessions := []auth.SessionRecord{}
	for _, s := range m.sessions {
		if s.UserID == userID {
			sessions = append(sessions, copySession(s))
		}
	}
	return sessions, nil
}

func (m *memoryAdapter) SetSession(ctx context.Context, session auth.SessionRecord) error {
	if err := auth.CheckSessionAttributes(session.Attributes); err != nil {
		return err
	}
	unlock, err := m.enter(ctx, "session id", session.ID, "user id", session.UserID)
	if err != nil {
		return err
	}
	defer unlock()
	if _, ok := m.users[session.UserID]; !ok {
		return auth.ErrInvalidUserID
	}
	if _, ok := m.sessions[session.ID]; ok {
		return auth.ErrDuplicateSessionID
	}
	m.sessions[session.ID] = copySession(session)
	return nil
}

func (m *memoryAdapter) DeleteSession(ctx context.Context, sessionID string) error {
	unlock, err := m.enter(ctx, "session id", sessionID)
	if err != nil {
		return err
	}
	defer unlock()
	delete(m.sessions, sessionID)
	return nil
}

func (m *memoryAdapter) DeleteSessionsByUserID(ctx context.Context, userID string) error {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return err
	}
	defer unlock()
	maps.DeleteFunc(m.sessions, func(_ string, s auth.SessionRecord) bool { return s.UserID == userID })
	return nil
}

func (m *memoryAdapter) GetSessionAndUser(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	unlock, err := m.enter(ctx, "session id", sessionID)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	defer unlock()
	s, ok := m.sessions[sessionID]
	if !ok {
		return auth.SessionRecord{}, auth.UserRecord{}, auth.ErrNotFound
	}
	u, ok := m.users[s.UserID]
	if !ok {
		return copySession(s), auth.UserRecord{}, auth.ErrNotFound // an orphan
	}
	return copySession(s), copyUser(u), nil
}

func (m *memoryAdapter) ReplaceKeyPassword(ctx context.Context, keyID, oldHash, newHash string) error {
	if oldHash == "" || newHash == "" {
		return &auth.InputError{Field: "hashed password", Reason: "empty"}
	}
	unlock, err := m.enter(ctx, "key id", keyID)
	if err != nil {
		return err
	}
	defer unlock()
	k, ok := m.keys[keyID]
	if !ok || k.HashedPassword == nil || *k.HashedPassword != oldHash {
		return auth.ErrNotFound
	}
	k.HashedPassword = &newHash
	m.keys[keyID] = copyKey(k)
	return nil
}

func (m *memoryAdapter) UpdateSession(ctx context.Context, sessionID string, update auth.SessionUpdate) error {
	if err := auth.CheckSessionAttributes(update.Attributes); err != nil {
		return err
	}
	unlock, err := m.enter(ctx, "session id", sessionID)
	if err != nil {
		return err
	}
	defer unlock()
	s, ok := m.sessions[sessionID]
	if !ok {
		return auth.ErrNotFound
	}
	if update.ActiveExpires != 0 {
		s.ActiveExpires = update.ActiveExpires
	}
	if update.IdleExpires != 0 {
		s.IdleExpires = update.IdleExpires
	}
	if update.IssuedAt != 0 {
		s.IssuedAt = update.IssuedAt
	}
	if len(update.Attributes) > 0 {
		s.Attributes = maps.Clone(s.Attributes)
		if s.Attributes == nil {
			s.Attributes = map[string]any{}
		}
		maps.Copy(s.Attributes, update.Attributes)
	}
	m.sessions[sessionID] = copySession(s)
	return nil
}

func (m *memoryAdapter) DeleteExpiredSessions(ctx context.Context, userID string, nowMillis int64) error {
	unlock, err := m.enter(ctx, "user id", userID)
	if err != nil {
		return err
	}
	defer unlock()
	maps.DeleteFunc(m.sessions, func(_ string, s auth.SessionRecord) bool {
		return s.UserID == userID && s.IdleExpires <= nowMillis
	})
	return nil
}

// countingAdapter counts the calls that reach the adapter it wraps. It
// hides SessionAndUserGetter unless withGetter is set, so tests can take
// either of the core's paths.
type countingAdapter struct {
	auth.Adapter
	calls atomic.Int64
}

func (c *countingAdapter) count() int64 { return c.calls.Load() }

func (c *countingAdapter) GetUser(ctx context.Context, userID string) (auth.UserRecord, error) {
	c.calls.Add(1)
	return c.Adapter.GetUser(ctx, userID)
}

func (c *countingAdapter) SetUser(ctx context.Context, user auth.UserRecord, key *auth.KeyRecord) error {
	c.calls.Add(1)
	return c.Adapter.SetUser(ctx, user, key)
}

func (c *countingAdapter) DeleteUser(ctx context.Context, userID string) error {
	c.calls.Add(1)
	return c.Adapter.DeleteUser(ctx, userID)
}

func (c *countingAdapter) UpdateUser(ctx context.Context, userID string, attributes map[string]any) (auth.UserRecord, error) {
	c.calls.Add(1)
	return c.Adapter.UpdateUser(ctx, userID, attributes)
}

func (c *countingAdapter) SetKey(ctx context.Context, key auth.KeyRecord) error {
	c.calls.Add(1)
	return c.Adapter.SetKey(ctx, key)
}

func (c *countingAdapter) GetKey(ctx context.Context, keyID string) (auth.KeyRecord, error) {
	c.calls.Add(1)
	return c.Adapter.GetKey(ctx, keyID)
}

func (c *countingAdapter) GetKeysByUserID(ctx context.Context, userID string) ([]auth.KeyRecord, error) {
	c.calls.Add(1)
	return c.Adapter.GetKeysByUserID(ctx, userID)
}

func (c *countingAdapter) UpdateKeyPassword(ctx context.Context, keyID string, hashedPassword *string) (auth.KeyRecord, error) {
	c.calls.Add(1)
	return c.Adapter.UpdateKeyPassword(ctx, keyID, hashedPassword)
}

func (c *countingAdapter) DeleteNonPrimaryKey(ctx context.Context, keyID string) error {
	c.calls.Add(1)
	return c.Adapter.DeleteNonPrimaryKey(ctx, keyID)
}

func (c *countingAdapter) DeleteKeysByUserID(ctx context.Context, userID string) error {
	c.calls.Add(1)
	return c.Adapter.DeleteKeysByUserID(ctx, userID)
}

func (c *countingAdapter) GetSession(ctx context.Context, sessionID string) (auth.SessionRecord, error) {
	c.calls.Add(1)
	return c.Adapter.GetSession(ctx, sessionID)
}

func (c *countingAdapter) GetSessionsByUserID(ctx context.Context, userID string) ([]auth.SessionRecord, error) {
	c.calls.Add(1)
	return c.Adapter.GetSessionsByUserID(ctx, userID)
}

func (c *countingAdapter) SetSession(ctx context.Context, session auth.SessionRecord) error {
	c.calls.Add(1)
	return c.Adapter.SetSession(ctx, session)
}

func (c *countingAdapter) DeleteSession(ctx context.Context, sessionID string) error {
	c.calls.Add(1)
	return c.Adapter.DeleteSession(ctx, sessionID)
}

func (c *countingAdapter) DeleteSessionsByUserID(ctx context.Context, userID string) error {
	c.calls.Add(1)
	return c.Adapter.DeleteSessionsByUserID(ctx, userID)
}

// countingGetterAdapter is a countingAdapter that also passes on the
// optional interfaces: SessionAndUserGetter, KeyConsumer,
// KeyPasswordReplacer, SessionUpdater and ExpiredSessionDeleter.
type countingGetterAdapter struct {
	countingAdapter
}

func (c *countingGetterAdapter) ReplaceKeyPassword(ctx context.Context, keyID, oldHash, newHash string) error {
	c.calls.Add(1)
	return c.Adapter.(auth.KeyPasswordReplacer).ReplaceKeyPassword(ctx, keyID, oldHash, newHash)
}

func (c *countingGetterAdapter) UpdateSession(ctx context.Context, sessionID string, update auth.SessionUpdate) error {
	c.calls.Add(1)
	return c.Adapter.(auth.SessionUpdater).UpdateSession(ctx, sessionID, update)
}

func (c *countingGetterAdapter) DeleteExpiredSessions(ctx context.Context, userID string, nowMillis int64) error {
	c.calls.Add(1)
	return c.Adapter.(auth.ExpiredSessionDeleter).DeleteExpiredSessions(ctx, userID, nowMillis)
}

func (c *countingGetterAdapter) ConsumeKey(ctx context.Context, keyID string) error {
	c.calls.Add(1)
	return c.Adapter.(auth.KeyConsumer).ConsumeKey(ctx, keyID)
}

func (c *countingGetterAdapter) GetSessionAndUser(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	c.calls.Add(1)
	return c.Adapter.(auth.SessionAndUserGetter).GetSessionAndUser(ctx, sessionID)
}
