package auth

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
)

// AttributeError reports a stored attribute value that cannot be read into
// the field of the application's attribute struct, such as a string where
// the struct has an int. It comes from any call that returns a User.
type AttributeError struct {
	// Attribute is the attribute's path: "age", "address.city", "tags[2]".
	Attribute string
	// Type is the Go type of the field.
	Type reflect.Type
	// Value is the stored value. Error does not print it: attributes may
	// hold personal data, and errors end up in logs.
	Value any
	// Err is the underlying problem, when there is more to say than the
	// types ("out of range", a base64 error).
	Err error
}

func (e *AttributeError) Error() string {
	msg := fmt.Sprintf("auth: attribute %q: cannot read stored %T into %v", e.Attribute, e.Value, e.Type)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *AttributeError) Unwrap() error { return e.Err }

var (
	timeType     = reflect.TypeFor[time.Time]()
	rawAttrsType = reflect.TypeFor[map[string]any]()
)

// attributeCodec converts between the application's attribute type and the
// map[string]any an Adapter stores. The rules are documented on New.
type attributeCodec struct {
	typ reflect.Type
	raw bool // the type is map[string]any: no conversion
}

func newAttributeCodec[A any]() (*attributeCodec, error) {
	return newCodec(reflect.TypeFor[A](), "user", ReservedAttributes)
}

// newCodec returns the codec of attribute type t, for the attributes of
// record ("user", "session"), whose reserved names are reserved.
func newCodec(t reflect.Type, record string, reserved []string) (*attributeCodec, error) {
	if t == rawAttrsType {
		return &attributeCodec{typ: t, raw: true}, nil
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("auth: %s attribute type %v is neither a struct nor map[string]any", record, t)
	}
	fields, err := structFields(t)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if slices.Contains(reserved, f.name) {
			return nil, &InputError{Field: "attribute type " + t.String(), Name: f.name, Reason: "reserved name"}
		}
	}
	if err := checkAttributeType(t, t.String(), map[reflect.Type]bool{}); err != nil {
		return nil, err
	}
	return &attributeCodec{typ: t}, nil
}

// attributeField is one field of an attribute struct.
type attributeField struct {
	name      string
	index     []int // for reflect.Value.FieldByIndex; embedded structs add a level
	typ       reflect.Type
	omitEmpty bool
}

type structFieldsResult struct {
	fields []attributeField
	err    error
}

var structFieldsCache sync.Map // reflect.Type -> structFieldsResult

// structFields returns the attribute fields of struct type t.
func structFields(t reflect.Type) ([]attributeField, error) {
	if cached, ok := structFieldsCache.Load(t); ok {
		r := cached.(structFieldsResult)
		return r.fields, r.err
	}
	fields, err := collectFields(t, t, nil)
	if err == nil {
		seen := make(map[string]bool, len(fields))
		for _, f := range fields {
			if seen[f.name] {
				err = &InputError{Field: "attribute type " + t.String(), Name: f.name, Reason: "two fields with this name"}
				break
			}
			seen[f.name] = true
		}
	}
	structFieldsCache.Store(t, structFieldsResult{fields, err})
	return fields, err
}

func collectFields(outer, t reflect.Type, index []int) ([]attributeField, error) {
	var fields []attributeField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("auth")
		if tag == "-" {
			continue
		}
		name, options, _ := strings.Cut(tag, ",")
		fieldIndex := append(slices.Clip(index), i)
		if sf.Anonymous && name == "" {
			switch {
			case sf.Type.Kind() == reflect.Struct && sf.Type != timeType:
				inner, err := collectFields(outer, sf.Type, fieldIndex)
				if err != nil {
					return nil, err
				}
				fields = append(fields, inner...)
				continue
			case sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct:
				return nil, &InputError{Field: "attribute type " + outer.String(), Name: sf.Name,
					Reason: "embedded struct pointer; embed the struct itself or give the field an auth tag"}
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		f := attributeField{name: name, index: fieldIndex, typ: sf.Type}
		for opt := range strings.SplitSeq(options, ",") {
			switch opt {
			case "":
			case "omitempty":
				f.omitEmpty = true
			default:
				return nil, &InputError{Field: "attribute type " + outer.String(), Name: name, Reason: fmt.Sprintf("unknown tag option %q", opt)}
			}
		}
		if reason := badAttributeName(name); reason != "" {
			return nil, &InputError{Field: "attribute type " + outer.String(), Name: name, Reason: reason}
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// checkAttributeType reports a type that the codec cannot convert. seen
// stops the walk at recursive struct types.
func checkAttributeType(t reflect.Type, path string, seen map[reflect.Type]bool) error {
	if t == timeType {
		return nil
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return nil
		}
	case reflect.Pointer, reflect.Slice:
		return checkAttributeType(t.Elem(), path, seen)
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			return checkAttributeType(t.Elem(), path, seen)
		}
	case reflect.Struct:
		if seen[t] {
			return nil
		}
		seen[t] = true
		fields, err := structFields(t)
		if err != nil {
			return err
		}
		for _, f := range fields {
			if err := checkAttributeType(f.typ, path+"."+f.name, seen); err != nil {
				return err
			}
		}
		return nil
	}
	return &InputError{Field: "attribute type", Name: path, Reason: "unsupported type " + t.String()}
}

// encode converts attributes (of the codec's type) to what an adapter
// stores. Values the adapter contract does not know (a uint64 above
// MaxInt64, NaN, a channel inside an any field) give an *InputError.
func (c *attributeCodec) encode(attributes any) (map[string]any, error) {
	if c.raw {
		m, _ := attributes.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return m, nil
	}
	return encodeStruct(reflect.ValueOf(attributes), "")
}

func encodeStruct(v reflect.Value, path string) (map[string]any, error) {
	fields, err := structFields(v.Type())
	if err != nil {
		return nil, err
	}
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		fv := v.FieldByIndex(f.index)
		if f.omitEmpty && fv.IsZero() {
			continue
		}
		value, err := encodeValue(fv, joinPath(path, f.name))
		if err != nil {
			return nil, err
		}
		m[f.name] = value
	}
	return m, nil
}

func encodeValue(v reflect.Value, path string) (any, error) {
	if v.Type() == timeType {
		return v.Interface().(time.Time).UTC(), nil
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, nil
		}
		return encodeValue(v.Elem(), path)
	case reflect.Bool:
		return v.Bool(), nil
	case reflect.String:
		return v.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if v.Uint() > math.MaxInt64 {
			return nil, &InputError{Field: "attribute", Name: path, Reason: "unsigned value above the int64 range"}
		}
		return int64(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, &InputError{Field: "attribute", Name: path, Reason: "NaN or infinite float (not portable across databases)"}
		}
		return f, nil
	case reflect.Slice:
		if v.IsNil() {
			return nil, nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return slices.Clone(v.Bytes()), nil
		}
		list := make([]any, v.Len())
		for i := range list {
			value, err := encodeValue(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}
			list[i] = value
		}
		return list, nil
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			break
		}
		if v.IsNil() {
			return nil, nil
		}
		m := make(map[string]any, v.Len())
		for it := v.MapRange(); it.Next(); {
			key := it.Key().String()
			value, err := encodeValue(it.Value(), joinPath(path, key))
			if err != nil {
				return nil, err
			}
			m[key] = value
		}
		return m, nil
	case reflect.Struct:
		return encodeStruct(v, path)
	}
	// Only reachable through an any field holding an unsupported value.
	return nil, &InputError{Field: "attribute", Name: path, Reason: "unsupported type " + v.Type().String()}
}

// decodeAttributes converts stored attributes to A; see New for the rules.
func decodeAttributes[A any](c *attributeCodec, stored map[string]any) (A, error) {
	var out A
	if c.raw {
		if stored == nil {
			stored = map[string]any{}
		}
		*any(&out).(*map[string]any) = stored
		return out, nil
	}
	err := decodeStruct(stored, reflect.ValueOf(&out).Elem(), "")
	return out, err
}

func decodeStruct(stored map[string]any, dst reflect.Value, path string) error {
	fields, err := structFields(dst.Type())
	if err != nil {
		return err
	}
	for _, f := range fields {
		raw, ok := stored[f.name]
		if !ok {
			continue
		}
		if err := decodeValue(raw, dst.FieldByIndex(f.index), joinPath(path, f.name)); err != nil {
			return err
		}
	}
	return nil
}

var errOutOfRange = errors.New("out of range")

func decodeValue(raw any, dst reflect.Value, path string) error {
	if raw == nil {
		dst.SetZero()
		return nil
	}
	mismatch := func(err error) error {
		return &AttributeError{Attribute: path, Type: dst.Type(), Value: raw, Err: err}
	}
	rv := reflect.ValueOf(raw)
	if dst.Type() == timeType {
		switch x := raw.(type) {
		case time.Time:
			dst.Set(reflect.ValueOf(x))
		case string:
			// Databases that keep attributes as JSON give times back as
			// RFC 3339 text.
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return mismatch(errors.New("not an RFC 3339 time"))
			}
			dst.Set(reflect.ValueOf(t))
		default:
			return mismatch(nil)
		}
		return nil
	}
	switch dst.Kind() {
	case reflect.Pointer:
		p := reflect.New(dst.Type().Elem())
		if err := decodeValue(raw, p.Elem(), path); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Interface:
		if !rv.Type().AssignableTo(dst.Type()) {
			return mismatch(nil)
		}
		dst.Set(rv)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			return mismatch(nil)
		}
		dst.SetBool(b)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			return mismatch(nil)
		}
		dst.SetString(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok, inRange := wholeNumber(rv)
		switch {
		case !ok:
			return mismatch(nil)
		case !inRange || dst.OverflowInt(n):
			return mismatch(errOutOfRange)
		}
		dst.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok, inRange := wholeNumber(rv)
		switch {
		case !ok:
			return mismatch(nil)
		case !inRange || n < 0 || dst.OverflowUint(uint64(n)):
			return mismatch(errOutOfRange)
		}
		dst.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		var f float64
		switch {
		case rv.CanFloat():
			f = rv.Float()
		case rv.CanInt():
			f = float64(rv.Int())
		default:
			return mismatch(nil)
		}
		if dst.OverflowFloat(f) {
			return mismatch(errOutOfRange)
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if dst.Type().Elem().Kind() == reflect.Uint8 {
			var b []byte
			switch x := raw.(type) {
			case []byte:
				b = slices.Clone(x)
			case string:
				// JSON stores bytes as standard base64.
				decoded, err := base64.StdEncoding.DecodeString(x)
				if err != nil {
					return mismatch(err)
				}
				b = decoded
			default:
				return mismatch(nil)
			}
			dst.SetBytes(b)
			return nil
		}
		if rv.Kind() != reflect.Slice {
			return mismatch(nil)
		}
		list := reflect.MakeSlice(dst.Type(), rv.Len(), rv.Len())
		for i := range rv.Len() {
			if err := decodeValue(rv.Index(i).Interface(), list.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		dst.Set(list)
	case reflect.Map:
		stored, ok := raw.(map[string]any)
		if !ok {
			return mismatch(nil)
		}
		m := reflect.MakeMapWithSize(dst.Type(), len(stored))
		for key, value := range stored {
			elem := reflect.New(dst.Type().Elem()).Elem()
			if err := decodeValue(value, elem, joinPath(path, key)); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(key).Convert(dst.Type().Key()), elem)
		}
		dst.Set(m)
	case reflect.Struct:
		stored, ok := raw.(map[string]any)
		if !ok {
			return mismatch(nil)
		}
		return decodeStruct(stored, dst, path)
	default:
		return mismatch(nil)
	}
	return nil
}

// wholeNumber reads an integer out of rv: any integer type, or a float
// without a fractional part (JSON numbers may come back as float64). ok is
// false for non-numbers and fractions; inRange is false for values outside
// int64.
func wholeNumber(rv reflect.Value) (n int64, ok, inRange bool) {
	switch {
	case rv.CanInt():
		return rv.Int(), true, true
	case rv.CanUint():
		u := rv.Uint()
		return int64(u), true, u <= math.MaxInt64
	case rv.CanFloat():
		f := rv.Float()
		if f != math.Trunc(f) { // also true for NaN
			return 0, false, false
		}
		// -2^63 is representable; 2^63 is the first float above MaxInt64.
		if f < math.MinInt64 || f >= 1<<63 {
			return 0, true, false
		}
		return int64(f), true, true
	}
	return 0, false, false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
