package sqlauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/luciago/mongoauth/auth"
)

// User attributes live in one JSON column, "attributes" (jsonb on
// PostgreSQL, JSON on MySQL and MariaDB, TEXT checked by json_valid on
// SQLite), holding an object from attribute name to value. One column
// stores arbitrary names without schema changes and reads the same on every
// database; an application that wants a real column for an attribute can
// add a generated column or an expression index over it.
//
// JSON alone cannot tell an integer from a whole float, a time or bytes
// from a string. Values are therefore written so that they read back as the
// type they were stored as, the types auth.UserRecord promises:
//
//	nil, bool, string   null, true/false, "…"
//	integers            a JSON integer (int64; larger unsigned values are refused)
//	floats              a JSON number that always has a fraction: 2 → 2.0
//	NaN, ±Inf           {"$float": "NaN" | "Infinity" | "-Infinity"}
//	time.Time           {"$date": "2006-01-02T15:04:05.999999999Z"} (UTC, full precision)
//	[]byte              {"$binary": "<standard base64>"}
//	maps, slices        JSON objects (map[string]any), arrays ([]any)
//
// auth.CheckAttributes refuses map keys starting with '$' at every depth,
// so a one-key object whose key is one of these tags is never user data.

// maxNesting bounds how deep attribute values nest. MySQL refuses JSON
// deeper than 100 levels; the bound leaves room for the enclosing object
// and the type tags, and stops a map that contains itself.
const maxNesting = 64

const (
	tagDate   = "$date"
	tagBinary = "$binary"
	tagFloat  = "$float"
)

// plainAttributes converts attribute values to the types auth.UserRecord
// promises, so that what is stored is exactly what will be read. It refuses
// what one JSON column cannot hold on every database: strings that are not
// UTF-8 or contain NUL (PostgreSQL's jsonb has no NUL), unsigned integers
// beyond int64, and types other than numbers, strings, booleans, times,
// byte slices, slices, arrays, string-keyed maps and pointers to these.
// Attribute names, nested ones included, are checked afterwards by
// auth.CheckAttributes on the result.
func plainAttributes(attrs map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(attrs))
	for name, v := range attrs {
		p, err := plainValue(name, v, 0)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	if err := auth.CheckAttributes(out); err != nil {
		return nil, err
	}
	return out, nil
}

func badValue(path, reason string) error {
	return &auth.InputError{Field: "attribute", Name: path, Reason: reason}
}

func plainValue(path string, v any, depth int) (any, error) {
	if depth > maxNesting {
		return nil, badValue(path, fmt.Sprintf("nested deeper than %d levels", maxNesting))
	}
	switch x := v.(type) { // the common types, without reflection
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		return plainString(path, x)
	case int64:
		return x, nil
	case int:
		return int64(x), nil
	case float64:
		return x, nil
	case time.Time:
		if y := x.UTC().Year(); y < 0 || y > 9999 {
			return nil, badValue(path, "time outside the years 0 to 9999")
		}
		return x.UTC(), nil
	case []byte:
		return bytes.Clone(x), nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return plainValue(path, rv.Elem().Interface(), depth+1)
	case reflect.Bool:
		return rv.Bool(), nil
	case reflect.String:
		return plainString(path, rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if rv.Uint() > math.MaxInt64 {
			return nil, badValue(path, "unsigned integer beyond int64")
		}
		return int64(rv.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return rv.Float(), nil
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, rv.Len())
			reflect.Copy(reflect.ValueOf(b), rv)
			return b, nil
		}
		list := make([]any, rv.Len())
		for i := range list {
			p, err := plainValue(path, rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			list[i] = p
		}
		return list, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, badValue(path, fmt.Sprintf("map key type %s: want string keys", rv.Type().Key()))
		}
		if rv.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			name := it.Key().String()
			p, err := plainValue(path+"."+name, it.Value().Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			m[name] = p
		}
		return m, nil
	}
	return nil, badValue(path, fmt.Sprintf("unsupported type %T", v))
}

func plainString(path, s string) (any, error) {
	if !utf8.ValidString(s) {
		return nil, badValue(path, "string value is not valid UTF-8")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return nil, badValue(path, "string value contains NUL")
	}
	return s, nil
}

// encodeAttributes writes plain attributes (from plainAttributes or
// decodeAttributes) as the column's JSON.
func encodeAttributes(attrs map[string]any) (string, error) {
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(jsonTree(attrs)); err != nil {
		return "", fmt.Errorf("sqlauth: encode attributes: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// jsonTree replaces the values JSON cannot type by their tagged forms.
// Maps are encoded with sorted keys, so equal attributes give equal text.
func jsonTree(v any) any {
	switch x := v.(type) {
	case float64:
		switch {
		case math.IsNaN(x):
			return map[string]any{tagFloat: "NaN"}
		case math.IsInf(x, 1):
			return map[string]any{tagFloat: "Infinity"}
		case math.IsInf(x, -1):
			return map[string]any{tagFloat: "-Infinity"}
		}
		// Plain digits with a fraction: PostgreSQL's numeric keeps them as
		// written (it would print 1e21 as digits without a fraction), and
		// the fraction marks the number as a float when read.
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return json.Number(s)
	case time.Time:
		return map[string]any{tagDate: x.UTC().Format(time.RFC3339Nano)}
	case []byte:
		return map[string]any{tagBinary: base64.StdEncoding.EncodeToString(x)}
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonTree(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonTree(e)
		}
		return out
	}
	return v // nil, bool, string, int64
}

// decodeAttributes reads the column's JSON back into plain values.
func decodeAttributes(raw []byte) (map[string]any, error) {
	v, err := decodeJSONValue(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a JSON object, have %T", v)
	}
	return obj, nil
}

func fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(x)
	case []any:
		for i, e := range x {
			p, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			x[i] = p
		}
		return x, nil
	case map[string]any:
		if len(x) == 1 {
			if p, ok, err := tagged(x); ok || err != nil {
				return p, err
			}
		}
		for k, e := range x {
			p, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			x[k] = p
		}
		return x, nil
	}
	return v, nil
}

// number reads an integer as int64 and anything with a fraction or an
// exponent as float64. An integer beyond int64, which this codec never
// writes, reads as the nearest float64.
func number(n json.Number) (any, error) {
	s := n.String()
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("number %s: %w", s, err)
	}
	return f, nil
}

// tagged decodes a one-key object that carries a type tag. ok is false
// for an ordinary object.
func tagged(m map[string]any) (v any, ok bool, err error) {
	for tag, raw := range m {
		s, isString := raw.(string)
		if !isString {
			return nil, false, nil
		}
		switch tag {
		case tagDate:
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, true, fmt.Errorf("%s: %w", tagDate, err)
			}
			return t.UTC(), true, nil
		case tagBinary:
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, true, fmt.Errorf("%s: %w", tagBinary, err)
			}
			return b, true, nil
		case tagFloat:
			switch s {
			case "NaN":
				return math.NaN(), true, nil
			case "Infinity":
				return math.Inf(1), true, nil
			case "-Infinity":
				return math.Inf(-1), true, nil
			}
			return nil, true, fmt.Errorf("%s: unknown value %q", tagFloat, s)
		}
	}
	return nil, false, nil
}
