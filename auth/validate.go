package auth

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLength is the longest user, session or key id, in bytes, that the
// core and the adapters accept. Lucia v1 sets no limit of its own, and its
// ids reach past 255 bytes: a key id is "providerId:providerUserId", and
// an e-mail key for a 254-byte address is 260 bytes. 2048 bytes leaves
// room for any such id while every database can still index it: it stays
// below PostgreSQL's B-tree entry limit (2704 bytes) and InnoDB's index key
// limit (3072 bytes); MongoDB 4.2 and later have no index key limit. A
// schema may hold less (Prisma's VARCHAR(191) ids on MySQL hold 191
// characters); the database then refuses longer ids, as it does Lucia's.
const MaxIDLength = 2048

// CheckID returns an *InputError unless id can be stored as a user, session
// or key id: non-empty, at most MaxIDLength bytes, valid UTF-8, without NUL.
// field names the id in the error ("user id", "session id", "key id").
func CheckID(field, id string) error {
	switch {
	case id == "":
		return &InputError{Field: field, Reason: "empty"}
	case len(id) > MaxIDLength:
		return &InputError{Field: field, Reason: fmt.Sprintf("longer than %d bytes", MaxIDLength)}
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

// ReservedSessionAttributes are names no session attribute may take: those
// of ReservedAttributes, and the session's own fields under every
// adapter's spelling: user_id, active_expires and idle_expires (Lucia's
// columns), issued_at (SessionRecord.IssuedAt), expires_at (the MongoDB
// adapter's TTL field) and __user (the field its $lookup joins the user
// into).
var ReservedSessionAttributes = []string{"id", "_id", "__v", "user_id", "active_expires", "idle_expires", "issued_at", "expires_at", "__user"}

// CheckAttributes returns an *InputError for the first attribute that no
// adapter could store literally: a name that is empty, starts with '$',
// contains '.' or a control character, is invalid UTF-8, or is reserved; or
// a string value that is not valid UTF-8 (databases would silently replace
// the bytes). Nested maps and lists follow the same rules except for
// reservation, so that no value is ever read by a database as an operator
// or a path.
func CheckAttributes(attributes map[string]any) error {
	return checkAttributes("attribute", attributes, ReservedAttributes)
}

// CheckSessionAttributes is CheckAttributes for session attributes: the
// same rules, with ReservedSessionAttributes as the reserved names.
func CheckSessionAttributes(attributes map[string]any) error {
	return checkAttributes("session attribute", attributes, ReservedSessionAttributes)
}

func checkAttributes(field string, attributes map[string]any, reserved []string) error {
	for name, value := range attributes {
		if reason := badAttributeName(name); reason != "" {
			return &InputError{Field: field, Name: name, Reason: reason}
		}
		if slices.Contains(reserved, name) {
			return &InputError{Field: field, Name: name, Reason: "reserved name"}
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
