package sqlauth

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

func TestColumnValueRanges(t *testing.T) {
	for _, tc := range []struct {
		col      Column
		ok, fail []int64
	}{
		{Column{IntegerBits: 8}, []int64{-128, 127}, []int64{-129, 128}},
		{Column{IntegerBits: 8, Unsigned: true}, []int64{0, 255}, []int64{-1, 256}},
		{Column{IntegerBits: 24}, []int64{-1 << 23, 1<<23 - 1}, []int64{1 << 23}},
		{Column{IntegerBits: 32, Unsigned: true}, []int64{math.MaxUint32}, []int64{math.MaxUint32 + 1, -1}},
		{Column{IntegerBits: 64}, []int64{math.MinInt64, math.MaxInt64}, nil},
		{Column{IntegerBits: 64, Unsigned: true}, []int64{math.MaxInt64}, []int64{-1}},
	} {
		tc.col.Name, tc.col.Type, tc.col.DatabaseType = "n", IntegerColumn, "int"
		for _, n := range tc.ok {
			v, err := columnValue(tc.col, n, Syntax{})
			require.NoError(t, err, "%+v %d", tc.col, n)
			assert.Equal(t, n, v)
		}
		for _, n := range tc.fail {
			_, err := columnValue(tc.col, n, Syntax{})
			var ie *auth.InputError
			require.ErrorAs(t, err, &ie, "%+v %d", tc.col, n)
			assert.Equal(t, "n", ie.Name)
		}
	}
	v, err := columnValue(Column{Type: IntegerColumn}, 3.0, Syntax{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), v, "a whole float is an integer")
	_, err = columnValue(Column{Type: IntegerColumn}, 1e19, Syntax{})
	require.ErrorIs(t, err, auth.ErrInvalidInput, "beyond int64")
}

func TestAttributeValueAsDriversHandThemOver(t *testing.T) {
	when := time.Date(2024, 2, 29, 23, 59, 58, 123_000_000, time.UTC)
	for _, tc := range []struct {
		typ        ColumnType
		read, want any
	}{
		{TextColumn, []byte("ünï"), "ünï"}, // MySQL
		{IntegerColumn, []byte("-7"), int64(-7)},
		{IntegerColumn, uint64(7), int64(7)},
		{BooleanColumn, int64(1), true},
		{BooleanColumn, []byte("0"), false},
		{FloatColumn, float32(0.5), 0.5},
		{DecimalColumn, "12.250000000000000000000000000000", 12.25}, // PostgreSQL numeric
		{DecimalColumn, []byte("1e400"), math.Inf(1)},
		{TimeColumn, []byte("2024-02-29 23:59:58.123"), when}, // MySQL DATETIME(3)
		{TimeColumn, "2024-03-01T00:59:58.123+01:00", when},
		{TimeColumn, when.UnixMilli(), when}, // SQLite
		{TimeColumn, time.Date(2024, 3, 1, 0, 59, 58, 123_000_000, time.FixedZone("", 3600)), when},
		{TimeColumn, []byte("2024-02-29"), time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{BytesColumn, []byte{0, 255}, []byte{0, 255}},
		{JSONColumn, []byte(`{"a":[1,2.5,{"$date":"2024-02-29T23:59:58.123Z"}]}`), map[string]any{"a": []any{int64(1), 2.5, when}}},
		{JSONColumn, "null", nil},
	} {
		got, err := attributeValue(Column{Name: "c", Type: tc.typ}, tc.read)
		require.NoError(t, err, "%s %#v", tc.typ, tc.read)
		assert.Equal(t, tc.want, got, "%s %#v", tc.typ, tc.read)
	}
	for _, tc := range []struct {
		typ  ColumnType
		read any
	}{
		{TextColumn, int64(1)},
		{TextColumn, []byte("\xff")},
		{IntegerColumn, uint64(math.MaxUint64)},
		{IntegerColumn, []byte("18446744073709551615")},
		{BooleanColumn, int64(2)},
		{TimeColumn, "yesterday"},
		{JSONColumn, "{"},
		{UnsupportedColumn, "x"},
	} {
		_, err := attributeValue(Column{Name: "c", Type: tc.typ}, tc.read)
		assert.Error(t, err, "%s %#v", tc.typ, tc.read)
	}
}
