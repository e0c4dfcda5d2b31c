package mongoauth

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth/auth"
)

// FuzzDecoders feeds arbitrary bytes, most of them BSON documents of any
// shape, to the document decoders. They must never panic (not even into
// their own recovery), and must either decode or return a *DocumentError;
// what they decode must survive being written back by the adapter and read
// again.
func FuzzDecoders(f *testing.F) {
	hash := "s2:salt:hash"
	for _, doc := range []any{
		sessionDocument(auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2}),
		sessionDocument(auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2, Attributes: map[string]any{"browser": "Firefox", "seen": time.Unix(0, 0).UTC()}}),
		bson.D{{Key: "_id", Value: "s"}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: int64(1)}, {Key: "idle_expires", Value: int64(2)}, {Key: "expires_at", Value: bson.DateTime(2)}, {Key: "__user", Value: bson.A{bson.D{{Key: "_id", Value: "u"}}}}},
		keyDocument(auth.KeyRecord{ID: "email:a", UserID: "u", HashedPassword: &hash, PrimaryKey: true}),
		userDocument(auth.UserRecord{ID: "u", Attributes: map[string]any{"name": "ann", "tags": []any{"x", int64(1)}, "when": time.Unix(0, 0).UTC()}}),
		bson.D{{Key: "_id", Value: "m"}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: 1.7e12}, {Key: "idle_expires", Value: math.NaN()}, {Key: "__v", Value: int32(0)}},
		bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "user_id", Value: int32(5)}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: ""}}}, {Key: "primary_key", Value: "yes"}, {Key: "expires", Value: 1.5}},
		bson.D{{Key: "_id", Value: "x"}, {Key: "a", Value: bson.Regex{Pattern: "^a", Options: "i"}}, {Key: "b", Value: bson.Decimal128{}}, {Key: "c", Value: bson.Undefined{}}, {Key: "d", Value: bson.JavaScript("1")}, {Key: "e", Value: bson.MinKey{}}, {Key: "f", Value: bson.Timestamp{T: 1, I: 2}}},
		bson.D{},
	} {
		data, err := bson.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0})          // too short for its own length
	f.Add([]byte{0xff, 0xff, 0xff, 0}) // length beyond the data

	f.Fuzz(func(t *testing.T, data []byte) {
		doc := bson.Raw(data)
		s, err := decodeSession(doc)
		checkDecodeError(t, err)
		if err == nil {
			again, err := decodeSession(mustMarshal(t, sessionDocument(s)))
			if err != nil || !bytes.Equal(mustMarshal(t, sessionDocument(again)), mustMarshal(t, sessionDocument(s))) {
				t.Fatalf("session %+v read back as %+v, %v", s, again, err)
			}
		}
		k, err := decodeKey(doc)
		checkDecodeError(t, err)
		if err == nil {
			again, err := decodeKey(mustMarshal(t, keyDocument(k)))
			if err != nil || !sameKey(again, k) {
				t.Fatalf("key %+v read back as %+v, %v", k, again, err)
			}
		}
		u, err := decodeUser(doc)
		checkDecodeError(t, err)
		if err == nil {
			for name := range u.Attributes {
				if name == fieldID || name == fieldVersion {
					t.Fatalf("attribute %q is bookkeeping", name)
				}
				if _, err := doc.LookupErr(name); err != nil {
					t.Fatalf("attribute %q not in the document", name)
				}
			}
		}
	})
}

func checkDecodeError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var de *DocumentError
	if !errors.As(err, &de) {
		t.Fatalf("want a *DocumentError, have %T: %v", err, err)
	}
	if de.Error() == "" || de.Record == "" {
		t.Fatalf("unhelpful DocumentError %#v", de)
	}
	if strings.HasPrefix(de.Reason, panicReason) {
		t.Fatalf("a decoder panicked, and only the recovery caught it: %v", de)
	}
}

func mustMarshal(t *testing.T, doc bson.D) bson.Raw {
	t.Helper()
	data, err := bson.Marshal(doc)
	if err != nil {
		t.Fatalf("the adapter wrote a document it cannot marshal: %v", err)
	}
	return data
}

func sameKey(a, b auth.KeyRecord) bool {
	eqString := func(x, y *string) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	eqInt := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ID == b.ID && a.UserID == b.UserID && a.PrimaryKey == b.PrimaryKey && eqString(a.HashedPassword, b.HashedPassword) && eqInt(a.Expires, b.Expires)
}

// Strings whose declared length is 0 pass bson.Raw.Validate, and the
// driver's StringValue panics on them (FuzzDecoders found both places).
// They must read as a *DocumentError naming the field.
func TestMalformedStringsAreDocumentErrors(t *testing.T) {
	emptyString := func(key string) []byte {
		return append(append([]byte{byte(bson.TypeString)}, key...), 0, 0, 0, 0, 0) // NUL after the key, then length 0
	}
	document := func(elements ...[]byte) bson.Raw {
		var body []byte
		for _, e := range elements {
			body = append(body, e...)
		}
		body = append(body, 0)
		n := len(body) + 4
		return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}, body...)
	}
	id, err := bson.Marshal(bson.D{{Key: "_id", Value: "u"}})
	require.NoError(t, err)
	idElement := id[4 : len(id)-1]

	badID := document(emptyString("_id"))
	require.NoError(t, badID.Validate(), "the driver's validation lets it through")
	badAttribute := document(idElement, emptyString("name"))
	require.NoError(t, badAttribute.Validate())

	for _, tc := range []struct {
		decode func(bson.Raw) error
		doc    bson.Raw
		field  string
	}{
		{func(d bson.Raw) error { _, err := decodeSession(d); return err }, badID, "_id"},
		{func(d bson.Raw) error { _, err := decodeKey(d); return err }, badID, "_id"},
		{func(d bson.Raw) error { _, err := decodeUser(d); return err }, badID, "_id"},
		{func(d bson.Raw) error { _, err := decodeUser(d); return err }, badAttribute, "name"},
	} {
		var de *DocumentError
		require.ErrorAs(t, tc.decode(tc.doc), &de)
		assert.Equal(t, tc.field, de.Field)
		assert.Equal(t, "malformed string", de.Reason)
	}
}
