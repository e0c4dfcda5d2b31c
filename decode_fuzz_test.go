package mongoauth

import (
	"errors"
	"math"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth/auth"
)

// FuzzDecoders feeds arbitrary bytes, most of them BSON documents of any
// shape, to the document decoders. They must never panic, and must either
// decode or return a *DocumentError; what they decode must survive being
// written back by the adapter and read again.
func FuzzDecoders(f *testing.F) {
	hash := "s2:salt:hash"
	for _, doc := range []any{
		sessionDocument(auth.SessionRecord{ID: "s", UserID: "u", ActiveExpires: 1, IdleExpires: 2}),
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
			if err != nil || again != s {
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
