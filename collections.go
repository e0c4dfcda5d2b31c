package mongoauth

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/luciago/mongoauth/auth"
)

// Default collection names, the same as Lucia's default table names.
const (
	DefaultUserCollection    = "auth_user"
	DefaultSessionCollection = "auth_session"
	DefaultKeyCollection     = "auth_key"
)

// Field names of the stored documents. They follow Lucia's schema, with the
// id stored as _id: the application's string, never an ObjectId.
const (
	fieldID            = "_id"
	fieldUserID        = "user_id"
	fieldActiveExpires = "active_expires"
	fieldIdleExpires   = "idle_expires"
	// fieldIssuedAt is a session's creation time (Unix ms), which Lucia
	// does not write; absent: unknown.
	fieldIssuedAt       = "issued_at"
	fieldHashedPassword = "hashed_password"
	fieldPrimaryKey     = "primary_key"
	fieldExpires        = "expires"
	// fieldVersion is the version counter mongoose adds to every document.
	// It is bookkeeping, never a user attribute.
	fieldVersion = "__v"
)

// DocumentError reports a stored document that this adapter cannot read,
// such as one with a non-string _id or a wrongly typed field, left by another
// writer or by hand. The document is not changed.
type DocumentError struct {
	// Record is "user", "session", "key" or "throttle".
	Record string
	// ID is the document's _id as extended JSON (a session id is a secret,
	// so Error prints only its first characters and a digest; see
	// Finding.Sample).
	ID string
	// Field is the offending field.
	Field string
	// Reason says what is wrong.
	Reason string
}

func (e *DocumentError) Error() string {
	id := e.ID
	if e.Record == "session" {
		id = shortSessionID(id)
	}
	return fmt.Sprintf("mongoauth: cannot read %s document %s: field %q: %s", e.Record, id, e.Field, e.Reason)
}

// shortSessionID shows a session id in reports and errors: a session id is
// a bearer secret, so only its first six characters are shown, followed by
// the first 8 hex digits of the SHA-256 of the whole id, so that ids with
// the same beginning stay apart and the document can be found again, for
// instance in mongosh:
//
//	db.auth_session.find({_id: /^abc123/}).toArray().filter(s =>
//		require("crypto").createHash("sha256").update(s._id).digest("hex").startsWith("1a2b3c4d"))
//
// Neither part helps to guess the id.
func shortSessionID(id string) string {
	if len(id) <= 6 {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return id[:6] + "… sha256:" + hex.EncodeToString(sum[:4])
}

func userDocument(u auth.UserRecord) bson.D {
	doc := make(bson.D, 0, len(u.Attributes)+1)
	doc = append(doc, bson.E{Key: fieldID, Value: u.ID})
	return appendAttributes(doc, u.Attributes)
}

// appendAttributes appends attributes to doc as top-level fields, in name
// order: a stable field order makes documents comparable.
func appendAttributes(doc bson.D, attributes map[string]any) bson.D {
	names := make([]string, 0, len(attributes))
	for name := range attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		doc = append(doc, bson.E{Key: name, Value: attributes[name]})
	}
	return doc
}

// sessionDocument is a session as stored: Lucia's four fields, the
// creation time when known, then the session's attributes as top-level
// fields, as a user's are.
func sessionDocument(s auth.SessionRecord) bson.D {
	doc := make(bson.D, 0, 5+len(s.Attributes))
	doc = append(doc,
		bson.E{Key: fieldID, Value: s.ID},
		bson.E{Key: fieldUserID, Value: s.UserID},
		bson.E{Key: fieldActiveExpires, Value: s.ActiveExpires},
		bson.E{Key: fieldIdleExpires, Value: s.IdleExpires},
	)
	if s.IssuedAt != 0 {
		doc = append(doc, bson.E{Key: fieldIssuedAt, Value: s.IssuedAt})
	}
	return appendAttributes(doc, s.Attributes)
}

// sessionFields are the fields of a session document that are not
// attributes: Lucia's, the creation time, the TTL copy of the idle expiry,
// mongoose's version counter and the user a $lookup joins in (see
// auth.ReservedSessionAttributes).
var sessionFields = []string{fieldID, fieldUserID, fieldActiveExpires, fieldIdleExpires, fieldIssuedAt, fieldExpiresAt, fieldVersion, joinedUser}

func keyDocument(k auth.KeyRecord) bson.D {
	var hash, expires any // nil encodes as BSON null, as Lucia stores them
	if k.HashedPassword != nil {
		hash = *k.HashedPassword
	}
	if k.Expires != nil {
		expires = *k.Expires
	}
	return bson.D{
		{Key: fieldID, Value: k.ID},
		{Key: fieldUserID, Value: k.UserID},
		{Key: fieldHashedPassword, Value: hash},
		{Key: fieldPrimaryKey, Value: k.PrimaryKey},
		{Key: fieldExpires, Value: expires},
	}
}

// reader decodes one document, remembering the first problem it meets so
// that decoding code reads straight through.
type reader struct {
	doc    bson.Raw
	record string
	id     string
	err    error
}

func newReader(doc bson.Raw, record string) *reader {
	r := &reader{doc: doc, record: record}
	// The driver's value accessors panic on truncated data; a server never
	// sends such a document, but a broken proxy or server could, and one bad
	// document must not bring the application down.
	if err := doc.Validate(); err != nil {
		r.fail("", "malformed BSON: "+err.Error())
		return r
	}
	v, err := doc.LookupErr(fieldID)
	if err != nil {
		r.fail(fieldID, "missing")
		return r
	}
	id, ok := v.StringValueOK()
	if !ok {
		r.id = v.String()
		r.fail(fieldID, wrongType(v, "a string", bson.TypeString))
		return r
	}
	r.id = id
	return r
}

// wrongType says why an accessor could not read v as want, a value of one
// of types: v has another type, or it has the type but is malformed. Raw
// validation accepts some malformed values that the driver's accessors then
// refuse (a string whose declared length is 0, for one), so every read here
// goes through the accessors that report this instead of panicking.
func wrongType(v bson.RawValue, want string, types ...bson.Type) string {
	if slices.Contains(types, v.Type) {
		return "malformed " + v.Type.String()
	}
	return "want " + want + ", have " + v.Type.String()
}

func (r *reader) fail(field, reason string) {
	if r.err == nil {
		id := r.id
		if id == "" {
			id = "(unknown id)"
		}
		r.err = &DocumentError{Record: r.record, ID: id, Field: field, Reason: reason}
	}
}

func (r *reader) lookup(field string) (bson.RawValue, bool) {
	v, err := r.doc.LookupErr(field)
	if err != nil {
		return v, false
	}
	return v, true
}

func (r *reader) string(field string) string {
	v, ok := r.lookup(field)
	if !ok {
		r.fail(field, "missing")
		return ""
	}
	s, ok := v.StringValueOK()
	if !ok {
		r.fail(field, wrongType(v, "a string", bson.TypeString))
	}
	return s
}

// nullableString reads a string that may be null or absent.
func (r *reader) nullableString(field string) *string {
	v, ok := r.lookup(field)
	if !ok || v.Type == bson.TypeNull {
		return nil
	}
	s, ok := v.StringValueOK()
	if !ok {
		r.fail(field, wrongType(v, "a string or null", bson.TypeString))
		return nil
	}
	return &s
}

func (r *reader) bool(field string) bool {
	v, ok := r.lookup(field)
	if !ok {
		r.fail(field, "missing")
		return false
	}
	b, ok := v.BooleanOK()
	if !ok {
		r.fail(field, wrongType(v, "a boolean", bson.TypeBoolean))
	}
	return b
}

func (r *reader) millis(field string) int64 {
	v, ok := r.lookup(field)
	if !ok {
		r.fail(field, "missing")
		return 0
	}
	n, err := millisValue(v)
	if err != nil {
		r.fail(field, err.Error())
	}
	return n
}

// nullableMillis reads Unix milliseconds that may be null or absent.
func (r *reader) nullableMillis(field string) *int64 {
	v, ok := r.lookup(field)
	if !ok || v.Type == bson.TypeNull {
		return nil
	}
	n, err := millisValue(v)
	if err != nil {
		r.fail(field, err.Error())
		return nil
	}
	return &n
}

// optionalMillis reads Unix milliseconds that may be null or absent,
// which read as 0.
func (r *reader) optionalMillis(field string) int64 {
	if n := r.nullableMillis(field); n != nil {
		return *n
	}
	return 0
}

// millisValue accepts the number types Lucia's JavaScript adapters leave:
// Int64 (Prisma), Double (mongoose) and Int32 for small values.
func millisValue(v bson.RawValue) (int64, error) {
	if n, ok := v.Int64OK(); ok {
		return n, nil
	}
	if n, ok := v.Int32OK(); ok {
		return int64(n), nil
	}
	if f, ok := v.DoubleOK(); ok {
		if f != math.Trunc(f) || math.IsInf(f, 0) || f < math.MinInt64 || f >= math.MaxInt64 {
			return 0, fmt.Errorf("want whole milliseconds, have %v", f)
		}
		return int64(f), nil
	}
	return 0, errors.New(wrongType(v, "a number", bson.TypeInt64, bson.TypeInt32, bson.TypeDouble))
}

// decodeSession reads a session; fields other than sessionFields are its
// attributes, none (nil) in a document written by Lucia or without them.
func decodeSession(doc bson.Raw) (s auth.SessionRecord, err error) {
	defer recoverDocument("session", &err)
	r := newReader(doc, "session")
	s = auth.SessionRecord{
		ID:            r.id,
		UserID:        r.string(fieldUserID),
		ActiveExpires: r.millis(fieldActiveExpires),
		IdleExpires:   r.millis(fieldIdleExpires),
		IssuedAt:      r.optionalMillis(fieldIssuedAt),
	}
	if r.err != nil || !hasOtherFields(doc, sessionFields) {
		return s, r.err
	}
	s.Attributes, err = r.attributes(sessionFields)
	return s, err
}

// hasOtherFields reports whether doc, a validated document, has a field
// not named in names. It allocates nothing, so that reading a session
// without attributes costs what it did before sessions had them (every
// request reads one).
func hasOtherFields(doc bson.Raw, names []string) bool {
	if len(doc) < 5 {
		return false
	}
	for rest := []byte(doc[4 : len(doc)-1]); len(rest) > 0; {
		elem, next, ok := bsoncore.ReadElement(rest)
		if !ok {
			return true // let the full read report it
		}
		key, known := elem.KeyBytes(), false
		for _, name := range names {
			if string(key) == name {
				known = true
				break
			}
		}
		if !known {
			return true
		}
		rest = next
	}
	return false
}

func decodeKey(doc bson.Raw) (k auth.KeyRecord, err error) {
	defer recoverDocument("key", &err)
	r := newReader(doc, "key")
	k = auth.KeyRecord{
		ID:             r.id,
		UserID:         r.string(fieldUserID),
		HashedPassword: r.nullableString(fieldHashedPassword),
		PrimaryKey:     r.bool(fieldPrimaryKey),
		Expires:        r.nullableMillis(fieldExpires),
	}
	return k, r.err
}

func decodeUser(doc bson.Raw) (u auth.UserRecord, err error) {
	defer recoverDocument("user", &err)
	r := newReader(doc, "user")
	if r.err != nil {
		return auth.UserRecord{}, r.err
	}
	attrs, err := r.attributes([]string{fieldID, fieldVersion})
	if err != nil {
		return auth.UserRecord{}, err
	}
	return auth.UserRecord{ID: r.id, Attributes: attrs}, nil
}

// attributes reads every field of the document but those in skip, as
// plain values (see plainValue).
func (r *reader) attributes(skip []string) (map[string]any, error) {
	elems, err := r.doc.Elements()
	if err != nil {
		return nil, &DocumentError{Record: r.record, ID: r.id, Field: "", Reason: err.Error()}
	}
	attrs := make(map[string]any, len(elems))
	for _, e := range elems {
		name := e.Key()
		if slices.Contains(skip, name) {
			continue
		}
		value, err := plainValue(e.Value())
		if err != nil {
			return nil, &DocumentError{Record: r.record, ID: r.id, Field: name, Reason: err.Error()}
		}
		attrs[name] = value
	}
	return attrs, nil
}

// panicReason starts the Reason of a DocumentError made from a panic.
const panicReason = "unreadable BSON (the driver panicked: "

// recoverDocument is the second line of defence of the decoders: they read
// only through accessors that report malformed values, but should one
// panic all the same, a bad document from a broken server, proxy or other
// writer becomes a *DocumentError rather than a crashed application. The
// fuzz test fails on such an error, so that the first line is mended.
func recoverDocument(record string, err *error) {
	if p := recover(); p != nil {
		*err = &DocumentError{Record: record, ID: "(unknown id)", Reason: fmt.Sprint(panicReason, p, ")")}
	}
}

// plainValue converts a BSON value to the Go types auth.UserRecord promises,
// so that applications see the same values as from any other adapter.
// Types without a plain Go counterpart (ObjectId, Decimal128, ...) keep
// the driver's type. A malformed value, here or nested, is an error naming
// where it is.
func plainValue(v bson.RawValue) (any, error) {
	malformed := func() (any, error) { return nil, errors.New("malformed " + v.Type.String()) }
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeString:
		if s, ok := v.StringValueOK(); ok {
			return s, nil
		}
	case bson.TypeBoolean:
		if b, ok := v.BooleanOK(); ok {
			return b, nil
		}
	case bson.TypeInt32:
		if n, ok := v.Int32OK(); ok {
			return int64(n), nil
		}
	case bson.TypeInt64:
		if n, ok := v.Int64OK(); ok {
			return n, nil
		}
	case bson.TypeDouble:
		if f, ok := v.DoubleOK(); ok {
			return f, nil
		}
	case bson.TypeDateTime:
		if ms, ok := v.DateTimeOK(); ok {
			return time.UnixMilli(ms).UTC(), nil
		}
	case bson.TypeBinary:
		if _, data, ok := v.BinaryOK(); ok {
			return append([]byte(nil), data...), nil
		}
	case bson.TypeEmbeddedDocument:
		doc, ok := v.DocumentOK()
		if !ok {
			return malformed()
		}
		elems, err := doc.Elements()
		if err != nil {
			return malformed()
		}
		m := make(map[string]any, len(elems))
		for _, e := range elems {
			key, err := e.KeyErr()
			if err != nil {
				return malformed()
			}
			if m[key], err = plainValue(e.Value()); err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
		}
		return m, nil
	case bson.TypeArray:
		arr, ok := v.ArrayOK()
		if !ok {
			return malformed()
		}
		values, err := arr.Values()
		if err != nil {
			return malformed()
		}
		out := make([]any, len(values))
		for i, e := range values {
			if out[i], err = plainValue(e); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return out, nil
	default:
		var out any
		if err := v.Unmarshal(&out); err != nil {
			return malformed()
		}
		return out, nil
	}
	return malformed()
}
