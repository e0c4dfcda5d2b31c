package adaptertest

import (
	"maps"
	"strings"

	"github.com/stretchr/testify/assert"

	"github.com/luciago/mongoauth/auth"
)

// Options describe a store whose schema narrows what the contract allows,
// such as the tables a Lucia v1 application created with Prisma. The zero
// value is the whole contract; Run uses it.
type Options struct {
	// AttributeColumns says that the store keeps user attributes in a fixed
	// set of columns, one per attribute, as Lucia's SQL adapters do: it must
	// have a nullable column for each attribute in AttributeColumns, and a
	// user reads back with nil for every column it was not given.
	AttributeColumns bool

	// MaxIDChars is the length, in characters, of the store's id columns
	// when it is shorter than auth.MaxIDLength bytes (Prisma's VARCHAR(191)
	// ids on MySQL): the long-id tests then use ids of that many
	// characters. Zero means ids of auth.MaxIDLength bytes fit.
	MaxIDChars int

	// NoSessionAttributes says that the store has no place for session
	// attributes, as the session tables of Lucia v1 applications have none:
	// the suite then expects a session with attributes to be refused with
	// auth.ErrInvalidInput, writing nothing, and a session without them to
	// work as usual.
	NoSessionAttributes bool
}

// AttributeColumns returns the names of the attributes the suite stores,
// each with a value of the type it stores there, for stores that need a
// column for each (Options.AttributeColumns).
func AttributeColumns() map[string]any {
	return map[string]any{
		"username": "",
		"nickname": "",
		"name":     "",
		"city":     "",
		"age":      int64(0),
		"admin":    false,
		"score":    0.0,
		"email":    "", // uniqueAttribute
	}
}

// longID returns an id one character shorter than the longest the store
// takes: auth.MaxIDLength bytes, or Options.MaxIDChars characters.
// Two-byte characters make it as long in bytes as it can be.
func (f *fixture) longID() string {
	if f.opts.MaxIDChars > 0 {
		return strings.Repeat("é", f.opts.MaxIDChars-1)
	}
	n := auth.MaxIDLength - 1
	return strings.Repeat("é", n/2) + strings.Repeat("x", n%2)
}

// assertUser asserts that got is want as the store reads it back: with
// Options.AttributeColumns, every column want does not set reads as nil.
func (f *fixture) assertUser(want, got auth.UserRecord, msgAndArgs ...any) {
	f.t.Helper()
	if f.opts.AttributeColumns {
		attrs := make(map[string]any)
		for name := range AttributeColumns() {
			attrs[name] = nil
		}
		maps.Copy(attrs, want.Attributes)
		want = auth.UserRecord{ID: want.ID, Attributes: attrs}
	}
	assert.Equal(f.t, want, got, msgAndArgs...)
}
