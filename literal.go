package mongoauth

import (
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth/auth"
)

// checkAttributes makes sure attributes are stored exactly as given, or
// refused with an *auth.InputError before anything is sent.
//
// auth.CheckAttributes, which runs first, checks names in map[string]any and []any values. The
// driver also marshals other maps, bson.D, bson.M and structs, whose keys
// that check does not see (a nested "$gt" reaches the server, which refuses
// it with an untyped write error or, depending on the server, stores it),
// and it passes strings that are not valid UTF-8, which some servers
// silently rewrite (FerretDB replaces the bytes with U+FFFD). So the
// attributes are marshalled as the driver will, read back the way reads
// return them, and checked again by the same rules; string values must be
// valid UTF-8.
func checkAttributes(attributes map[string]any) error {
	return checkLiteral(attributes, auth.CheckAttributes)
}

// checkSessionAttributes is checkAttributes for session attributes, whose
// names auth.CheckSessionAttributes checks.
func checkSessionAttributes(attributes map[string]any) error {
	return checkLiteral(attributes, auth.CheckSessionAttributes)
}

func checkLiteral(attributes map[string]any, check func(map[string]any) error) error {
	if err := check(attributes); err != nil || len(attributes) == 0 {
		return err
	}
	raw, err := bson.Marshal(appendAttributes(nil, attributes))
	if err != nil {
		return &auth.InputError{Field: "attribute", Reason: "cannot be stored as BSON: " + err.Error()}
	}
	read, err := plainValue(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: raw})
	if err != nil {
		return &auth.InputError{Field: "attribute", Reason: "cannot be stored as BSON: " + err.Error()}
	}
	asRead, _ := read.(map[string]any)
	if err := check(asRead); err != nil {
		return err
	}
	return checkUTF8(bson.Raw(raw), "")
}

// checkUTF8 reports the first string value in doc that is not valid UTF-8.
func checkUTF8(doc bson.Raw, path string) error {
	elems, err := doc.Elements()
	if err != nil {
		return &auth.InputError{Field: "attribute", Name: path, Reason: "cannot be stored as BSON: " + err.Error()}
	}
	for _, e := range elems {
		name := e.Key()
		if path != "" {
			name = path + "." + name
		}
		v := e.Value()
		switch v.Type {
		case bson.TypeString, bson.TypeSymbol, bson.TypeJavaScript:
			if !utf8.Valid(v.Value[4 : len(v.Value)-1]) { // int32 length, bytes, NUL
				return &auth.InputError{Field: "attribute", Name: name, Reason: "value is not valid UTF-8"}
			}
		case bson.TypeEmbeddedDocument, bson.TypeArray:
			if err := checkUTF8(v.Value, name); err != nil {
				return err
			}
		}
	}
	return nil
}
