package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest user, session or key id, in bytes, that
// adapters accept. It lets every database index ids the same way
// (255 bytes fits a MySQL VARCHAR(255) primary key).
const MaxIDLength = 255

// CheckID returns an *InputError unless id can be stored as a user, session
// or key id: non-empty, at most MaxIDLength bytes, valid UTF-8, without NUL.
// field names the id in the error ("user id", "session id", "key id").
func CheckID(field, id string) error {
	switch {
	case id == "":
		return &InputError{Field: field, Reason: "empty"}
	case len(id) > MaxIDLength:
		return &InputError{Field: field, Reason: "longer than 255 bytes"}
	case !utf8.ValidString(id):
		return &InputError{Field: field, Reason: "not valid UTF-8"}
	case strings.IndexByte(id, 0) >= 0:
		return &InputError{Field: field, Reason: "contains NUL"}
	}
	return nil
}

// ReservedAttributes are names no user attribute may take: the record's id
// under its relational and MongoDB spellings, and the version field that
// Lucia's mongoose adapter writes.
var ReservedAttributes = []string{"id", "_id", "__v"}

// CheckAttributes returns an *InputError for the first attribute that no
// adapter could store literally: a name that is empty, starts with '$',
// contains '.' or a control character, is invalid UTF-8, or is reserved; or
// a string value that is not valid UTF-8 (databases would silently replace
// the bytes). Nested maps and lists follow the same rules except for
// reservation, so that no value is ever read by a database as an operator
// or a path.
func CheckAttributes(attributes map[string]any) error {
	for name, value := range attributes {
		if reason := badAttributeName(name); reason != "" {
			return &InputError{Field: "attribute", Name: name, Reason: reason}
		}
		for _, reserved := range ReservedAttributes {
			if name == reserved {
				return &InputError{Field: "attribute", Name: name, Reason: "reserved name"}
			}
		}
		if err := checkNested(name, value); err != nil {
			return err
		}
	}
	return nil
}

func checkNested(path string, value any) error {
	switch v := value.(type) {
	case string:
		if !utf8.ValidString(v) {
			return &InputError{Field: "attribute", Name: path, Reason: "value is not valid UTF-8"}
		}
	case map[string]any:
		for name, inner := range v {
			if reason := badAttributeName(name); reason != "" {
				return &InputError{Field: "attribute", Name: path + "." + name, Reason: reason}
			}
			if err := checkNested(path+"."+name, inner); err != nil {
				return err
			}
		}
	case []any:
		for _, inner := range v {
			if err := checkNested(path, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

func badAttributeName(name string) string {
	switch {
	case name == "":
		return "empty name"
	case name[0] == '$':
		return "starts with '$'"
	case strings.IndexByte(name, '.') >= 0:
		return "contains '.'"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "contains a control character"
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	}
	return ""
}
