package sqlauth

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

func TestEncodeAttributesText(t *testing.T) {
	// The stored text is part of the schema: other programs read it.
	attrs, err := plainAttributes(map[string]any{
		"n": 42, "f": 2.0, "g": 1e21, "h": 0.1, "s": "<a&b>", "nil": nil,
		"t":    time.Date(2024, 1, 2, 3, 4, 5, 6, time.FixedZone("CET", 3600)),
		"b":    []byte("hi"),
		"nan":  math.NaN(),
		"list": []any{int64(1), map[string]any{"k": true}},
	})
	require.NoError(t, err)
	text, err := encodeAttributes(attrs)
	require.NoError(t, err)
	assert.Equal(t, `{"b":{"$binary":"aGk="},"f":2.0,"g":1000000000000000000000.0,"h":0.1,"list":[1,{"k":true}],`+
		`"n":42,"nan":{"$float":"NaN"},"nil":null,"s":"<a&b>","t":{"$date":"2024-01-02T02:04:05.000000006Z"}}`, text)
}

func TestDecodeAttributesAsDatabasesPrintThem(t *testing.T) {
	// Databases re-print stored JSON: MySQL prints doubles in exponent
	// form, PostgreSQL orders keys by length. Numbers with a fraction or an
	// exponent read as float64, others as int64; integers beyond int64
	// (never written by the adapter) as float64.
	got, err := decodeAttributes([]byte(`{"e": 1e300, "E": 2E-3, "i": -9223372036854775808, "big": 18446744073709551616, "f": 2.0, "arr": [1, 1.5]}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"e": 1e300, "E": 2e-3, "i": int64(math.MinInt64), "big": 18446744073709551616.0, "f": 2.0, "arr": []any{int64(1), 1.5},
	}, got)
}

func TestDecodeAttributesRefusesWhatItCannotRead(t *testing.T) {
	for _, raw := range []string{
		``, `[]`, `"x"`, `null`, `{"a":1} {}`, `{"a":`, `{"t":{"$date":"yesterday"}}`,
		`{"b":{"$binary":"!!"}}`, `{"f":{"$float":"big"}}`,
	} {
		_, err := decodeAttributes([]byte(raw))
		assert.Error(t, err, raw)
	}
}

func TestTagLikeObjectsStayObjects(t *testing.T) {
	// Only a one-key object whose key is a tag and whose value a string is
	// a tagged value; anything else is a map (and the adapter never writes
	// '$' keys of its own for the user).
	got, err := decodeAttributes([]byte(`{"a":{"$date":1},"b":{"$date":"2024-01-01T00:00:00Z","x":1},"c":{"$other":"x"}}`))
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"a": map[string]any{"$date": int64(1)},
		"b": map[string]any{"$date": "2024-01-01T00:00:00Z", "x": int64(1)},
		"c": map[string]any{"$other": "x"},
	}, got)
}

func TestPlainAttributesChecksNames(t *testing.T) {
	_, err := plainAttributes(map[string]any{"id": 1})
	require.ErrorIs(t, err, auth.ErrInvalidInput)
	_, err = plainAttributes(map[string]any{"ok": map[string]int{"$where": 1}})
	require.ErrorIs(t, err, auth.ErrInvalidInput, "keys of typed maps are checked too")
}

func FuzzAttributesRoundTrip(f *testing.F) {
	f.Add(`{"a":1,"b":[1.5,"x",null,true],"c":{"$date":"2024-01-01T00:00:00Z"},"d":{"$binary":"AAE="}}`)
	f.Add(`{"e":1e300,"f":{"$float":"-Infinity"},"g":{"h":{"i":[[]]}}}`)
	f.Fuzz(func(t *testing.T, raw string) {
		attrs, err := decodeAttributes([]byte(raw))
		if err != nil {
			return
		}
		// Whatever reads back must write and read back the same, or be
		// refused as input (a '$' key written by another program).
		plain, err := plainAttributes(attrs)
		if err != nil {
			require.ErrorIs(t, err, auth.ErrInvalidInput)
			return
		}
		text, err := encodeAttributes(plain)
		require.NoError(t, err)
		again, err := decodeAttributes([]byte(text))
		require.NoError(t, err)
		text2, err := encodeAttributes(again)
		require.NoError(t, err)
		require.Equal(t, text, text2)
	})
}
