package sqlauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/luciago/mongoauth/auth"
)

// AttributeStorage says where an Adapter keeps user attributes.
type AttributeStorage int

const (
	// DetectAttributes, the zero value, looks at the user table: a column
	// named "attributes" means AttributesJSON, any other shape
	// AttributesInColumns. The adapter looks when CheckSchema (and so
	// CreateTables) runs, or else at the first call that reads or writes a
	// user, and again at every CheckSchema. CreateTables creates the JSON
	// shape when the user table is missing.
	DetectAttributes AttributeStorage = iota

	// AttributesJSON keeps every attribute in one JSON column named
	// "attributes", the shape CreateTables creates: any attribute name, any
	// value the contract allows, no schema change per attribute. See
	// Adapter.SetUser for how values read back.
	AttributesJSON

	// AttributesInColumns keeps each attribute in the user-table column of
	// the same name, as the tables of Lucia v1's Prisma and SQL adapters do
	// (auth_user with username, email, ... columns), so that a Lucia
	// application on the same tables keeps working. Every column but id is
	// an attribute; the adapter reads the columns' types from the database
	// (information_schema or PRAGMA table_xinfo). A name without a column
	// is refused (see Column for the rest), and a column the attributes do
	// not name is left to its default on insert and unchanged on update.
	// CreateTables creates a user table with only an id column here; add
	// the attribute columns with your migrations.
	AttributesInColumns
)

// String returns the constant's name.
func (s AttributeStorage) String() string {
	switch s {
	case DetectAttributes:
		return "DetectAttributes"
	case AttributesJSON:
		return "AttributesJSON"
	case AttributesInColumns:
		return "AttributesInColumns"
	}
	return fmt.Sprintf("AttributeStorage(%d)", int(s))
}

// Column is one column of the user table, as a Dialect describes it and the
// adapter maps it to an attribute of the same name (AttributesInColumns).
//
// Writing an attribute, the adapter checks its value against the column
// before anything is written, and refuses with an *auth.InputError: a name
// without a column; nil for a NOT NULL column; a value of another type
// (below); an integer outside the column's range; NaN or an infinity for a
// float or decimal column; a value for a generated column; and, on insert,
// no value for a NOT NULL column without a default. Types, as written and
// as read back:
//
//	TextColumn     string
//	IntegerColumn  int64 (a whole float64 is accepted when written)
//	BooleanColumn  bool (SQLite and MySQL store 1 and 0)
//	FloatColumn    float64 (int64 accepted)
//	DecimalColumn  float64 (int64 accepted), so digits beyond float64's ~16 are lost when read
//	TimeColumn     time.Time in UTC, at the column's precision (Prisma's: milliseconds);
//	               SQLite stores Unix milliseconds, as Prisma's SQLite engine does,
//	               and reads those, text times and SQLite's CURRENT_TIMESTAMP
//	BytesColumn    []byte
//	JSONColumn     any value the JSON column takes (maps, slices, ...), encoded as there
//
// A NULL column reads as nil, so a user always reads back with every
// column of the table.
type Column struct {
	// Name is the column's name, which is the attribute's.
	Name string
	// Type is how the column's values map to attribute values.
	Type ColumnType
	// DatabaseType is the column's type as the database spells it, for
	// messages.
	DatabaseType string
	// Nullable says that the column takes NULL, a nil attribute.
	Nullable bool
	// Optional says that an insert may leave the column out: it is
	// nullable, has a default, or is an identity or auto-increment column.
	Optional bool
	// Generated says that the database computes the column: it is read,
	// never written.
	Generated bool
	// IntegerBits is the width of an IntegerColumn (8, 16, 24, 32 or 64),
	// and Unsigned says it holds no negative values; they bound what an
	// attribute may hold.
	IntegerBits int
	Unsigned    bool
}

// ColumnType is how a user-table column's values map to attribute values;
// see Column.
type ColumnType int

// Column types. A Dialect maps each database type to one of them.
const (
	// UnsupportedColumn is a type the adapter cannot map (arrays,
	// intervals, geometry, ...): CheckSchema reports it as a *SchemaError.
	UnsupportedColumn ColumnType = iota
	TextColumn
	IntegerColumn
	BooleanColumn
	FloatColumn
	DecimalColumn
	TimeColumn
	BytesColumn
	JSONColumn
)

var columnTypeNames = [...]string{"unsupported", "text", "integer", "boolean", "float", "decimal", "time", "bytes", "JSON"}

// String names the type in messages.
func (t ColumnType) String() string {
	if t >= 0 && int(t) < len(columnTypeNames) {
		return columnTypeNames[t]
	}
	return fmt.Sprintf("ColumnType(%d)", int(t))
}

// integerRange returns the values an IntegerColumn holds that an int64 can
// carry.
func (c Column) integerRange() (lo, hi int64) {
	bits := c.IntegerBits
	if bits <= 0 || bits > 64 {
		bits = 64
	}
	if c.Unsigned {
		if bits == 64 {
			return 0, math.MaxInt64
		}
		return 0, 1<<bits - 1
	}
	return -1 << (bits - 1), 1<<(bits-1) - 1
}

// columnValue converts a plain attribute value (see plainValue) into what
// is bound for column c, or refuses it.
func columnValue(c Column, v any, syntax Syntax) (any, error) {
	refuse := func(reason string, args ...any) error {
		return &auth.InputError{Field: "attribute", Name: c.Name, Reason: fmt.Sprintf(reason, args...)}
	}
	wrongType := func() error {
		return refuse("column is %s (%s); have %T", c.Type, c.DatabaseType, v)
	}
	if c.Generated {
		return nil, refuse("column is generated by the database")
	}
	if v == nil {
		if !c.Nullable {
			return nil, refuse("column is NOT NULL")
		}
		return nil, nil
	}
	switch c.Type {
	case TextColumn:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case IntegerColumn:
		n, ok := v.(int64)
		if f, isFloat := v.(float64); isFloat && f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			n, ok = int64(f), true
		}
		if !ok {
			return nil, wrongType()
		}
		if lo, hi := c.integerRange(); n < lo || n > hi {
			return nil, refuse("%d is outside the range of column type %s", n, c.DatabaseType)
		}
		return n, nil
	case BooleanColumn:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case FloatColumn, DecimalColumn:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return nil, wrongType()
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, refuse("%v cannot be stored in a %s column", f, c.Type)
		}
		return f, nil
	case TimeColumn:
		if t, ok := v.(time.Time); ok {
			if syntax.UnixMilliTimes {
				return t.UnixMilli(), nil
			}
			return t.UTC(), nil
		}
	case BytesColumn:
		if b, ok := v.([]byte); ok {
			return b, nil
		}
	case JSONColumn:
		var buf strings.Builder
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jsonTree(v)); err != nil {
			return nil, refuse("cannot encode as JSON: %v", err)
		}
		return strings.TrimSuffix(buf.String(), "\n"), nil
	default:
		return nil, refuse("column type %s is not supported", c.DatabaseType)
	}
	return nil, wrongType()
}

// attributeValue converts what the driver read from column c into the
// attribute value it stands for.
func attributeValue(c Column, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	text, isText := v.(string)
	if b, ok := v.([]byte); ok && c.Type != BytesColumn {
		text, isText = string(b), true // MySQL sends most values as text
	}
	switch c.Type {
	case TextColumn:
		if isText {
			if !utf8.ValidString(text) {
				return nil, errors.New("text is not valid UTF-8")
			}
			return text, nil
		}
	case IntegerColumn:
		switch x := v.(type) {
		case int64:
			return x, nil
		case uint64:
			if x <= math.MaxInt64 {
				return int64(x), nil
			}
		}
		if isText {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return n, nil
			}
			return nil, fmt.Errorf("%q is not an integer within int64", text)
		}
	case BooleanColumn:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			if x == 0 || x == 1 {
				return x == 1, nil
			}
		}
		if isText && (text == "0" || text == "1") {
			return text == "1", nil
		}
	case FloatColumn, DecimalColumn:
		switch x := v.(type) {
		case float64:
			return x, nil
		case float32:
			return float64(x), nil
		case int64:
			return float64(x), nil
		}
		if isText {
			if f, err := strconv.ParseFloat(text, 64); err == nil || errors.Is(err, strconv.ErrRange) {
				return f, nil
			}
		}
	case TimeColumn:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case int64: // SQLite, Unix milliseconds
			return time.UnixMilli(x).UTC(), nil
		case float64:
			return time.UnixMilli(int64(x)).UTC(), nil
		}
		if isText {
			return parseTime(text)
		}
	case BytesColumn:
		switch x := v.(type) {
		case []byte:
			return bytes.Clone(x), nil
		case string:
			return []byte(x), nil
		}
	case JSONColumn:
		if isText {
			return decodeJSONValue(strings.NewReader(text))
		}
	}
	return nil, fmt.Errorf("cannot read %T from a %s column", v, c.Type)
}

// timeLayouts are the text forms of times that databases hand back:
// MySQL's DATETIME and DATE without parseTime, SQLite's CURRENT_TIMESTAMP
// and ISO 8601 text as other programs write it.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02",
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// decodeJSONValue reads one JSON value, the whole of r, as the JSON column
// does: numbers as int64 or float64, the type tags as times, bytes and
// special floats.
func decodeJSONValue(r io.Reader) (any, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not JSON: data after the value")
	}
	return fromJSON(v)
}
