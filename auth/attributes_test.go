package auth_test

import (
	"encoding/base64"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
)

type address struct {
	City string  `auth:"city"`
	Zip  *string `auth:"zip,omitempty"`
}

type contact struct {
	Email string `auth:"email"`
}

// richProfile uses every kind of field the codec supports.
type richProfile struct {
	contact                 // embedded: its fields are the outer struct's
	Name     string         `auth:"name"`
	Admin    bool           `auth:"admin"`
	Age      uint8          `auth:"age"`
	Score    float32        `auth:"score"`
	Balance  int64          `auth:"balance"`
	Born     time.Time      `auth:"born"`
	Avatar   []byte         `auth:"avatar"`
	Tags     []string       `auth:"tags"`
	Address  address        `auth:"address"`
	Homes    []address      `auth:"homes"`
	Counts   map[string]int `auth:"counts"`
	Nick     *string        `auth:"nick"`
	Extra    any            `auth:"extra"`
	Skipped  string         `auth:"-"`
	internal string
	Untagged string
}

func newRichAuth(t *testing.T, adapter auth.Adapter) *auth.Auth[richProfile] {
	t.Helper()
	a, err := auth.New[richProfile](adapter, auth.Config{PasswordHasher: auth.InsecureFastHasher()})
	require.NoError(t, err)
	return a
}

func TestTypedAttributesRoundTrip(t *testing.T) {
	zip := "0150"
	nick := "annie"
	in := richProfile{
		contact: contact{Email: "ann@example.com"},
		Name:    "Ann", Admin: true, Age: 42, Score: 1.5, Balance: -1 << 40,
		Born:     time.Date(1990, 2, 3, 4, 5, 6, 7_000_000, time.FixedZone("CET", 3600)),
		Avatar:   []byte{0, 1, 2, 255},
		Tags:     []string{"a", "b"},
		Address:  address{City: "Oslo", Zip: &zip},
		Homes:    []address{{City: "Bergen"}, {City: "Tromsø"}},
		Counts:   map[string]int{"logins": 3},
		Nick:     &nick,
		Extra:    map[string]any{"theme": "dark", "size": int64(2)},
		Skipped:  "not stored",
		internal: "not stored",
		Untagged: "stored as Untagged",
	}
	for _, b := range append(memoryBackends[:1:1], mongoBackend) {
		t.Run(b.name, func(t *testing.T) {
			adapter := b.newAdapter(t)
			a := newRichAuth(t, adapter)
			ctx := t.Context()
			u, err := a.CreateUser(ctx, in, nil)
			require.NoError(t, err)

			raw, err := adapter.GetUser(ctx, u.ID)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"email", "name", "admin", "age", "score", "balance", "born", "avatar",
				"tags", "address", "homes", "counts", "nick", "extra", "Untagged"}, keys(raw.Attributes))
			assert.Equal(t, map[string]any{"city": "Oslo", "zip": "0150"}, raw.Attributes["address"])

			got, err := a.GetUser(ctx, u.ID)
			require.NoError(t, err)
			want := in
			want.Skipped, want.internal = "", ""
			want.Born = in.Born.UTC()
			assert.Equal(t, want, got.Attributes)
		})
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestTypedAttributesFromJSONStore reads attributes as a database that
// keeps them as JSON hands them back: times as RFC 3339 text, bytes as
// base64, every number possibly a float64.
func TestTypedAttributesFromJSONStore(t *testing.T) {
	adapter := newMemoryAdapter()
	a := newRichAuth(t, adapter)
	ctx := t.Context()
	require.NoError(t, adapter.SetUser(ctx, auth.UserRecord{ID: "u1", Attributes: map[string]any{
		"born":    "2023-01-02T03:04:05.123+01:00",
		"age":     float64(42),
		"score":   int64(3),
		"balance": float64(1e15),
		"avatar":  base64.StdEncoding.EncodeToString([]byte("png")),
		"tags":    []any{"a", "b"},
		"counts":  map[string]any{"logins": float64(7)},
		"address": map[string]any{"city": "Oslo", "zip": nil},
		"nick":    nil,
		"unknown": "ignored",
	}}, nil))
	u, err := a.GetUser(ctx, "u1")
	require.NoError(t, err)
	assert.Equal(t, richProfile{
		Born:    time.Date(2023, 1, 2, 2, 4, 5, 123_000_000, time.UTC),
		Age:     42,
		Score:   3,
		Balance: 1e15,
		Avatar:  []byte("png"),
		Tags:    []string{"a", "b"},
		Counts:  map[string]int{"logins": 7},
		Address: address{City: "Oslo"},
	}, withUTC(u.Attributes))
}

func withUTC(p richProfile) richProfile {
	p.Born = p.Born.UTC()
	return p
}

func TestAttributeMismatches(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stored    map[string]any
		attribute string
		secret    string // must not appear in the message
	}{
		{"StringForInt", map[string]any{"age": "forty-two"}, "age", "forty-two"},
		{"OutOfRange", map[string]any{"age": int64(300)}, "age", ""},
		{"Negative", map[string]any{"age": int64(-1)}, "age", ""},
		{"Fraction", map[string]any{"balance": 1.5}, "balance", ""},
		{"HugeFloat", map[string]any{"balance": 1e19}, "balance", ""},
		{"FloatOverflow", map[string]any{"score": 1e300}, "score", ""},
		{"NotATime", map[string]any{"born": "yesterday at noon"}, "born", "yesterday"},
		{"TimeAsNumber", map[string]any{"born": int64(1)}, "born", ""},
		{"NotBase64", map[string]any{"avatar": "!!!"}, "avatar", "!!!"},
		{"NotAList", map[string]any{"tags": "a,b"}, "tags", "a,b"},
		{"NotADocument", map[string]any{"address": "Oslo"}, "address", "Oslo"},
		{"NestedInList", map[string]any{"homes": []any{map[string]any{"city": "A"}, map[string]any{"city": int64(7)}}}, "homes[1].city", ""},
		{"NestedInMap", map[string]any{"counts": map[string]any{"logins": "many"}}, "counts.logins", "many"},
		{"NotABool", map[string]any{"admin": "yes"}, "admin", "yes"},
		{"EmbeddedField", map[string]any{"email": true}, "email", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			adapter := newMemoryAdapter()
			a := newRichAuth(t, adapter)
			require.NoError(t, adapter.SetUser(t.Context(), auth.UserRecord{ID: "u1", Attributes: tc.stored}, nil))
			_, err := a.GetUser(t.Context(), "u1")
			var ae *auth.AttributeError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.attribute, ae.Attribute)
			assert.Contains(t, err.Error(), tc.attribute)
			if tc.secret != "" {
				assert.NotContains(t, err.Error(), tc.secret, "stored values stay out of error messages")
			}
		})
	}
}

func TestAttributeTypesRefusedByNew(t *testing.T) {
	adapter := newMemoryAdapter()
	check := func(name string, err error) {
		t.Helper()
		assert.Error(t, err, name)
	}
	_, err := auth.New[struct {
		C chan int `auth:"c"`
	}](adapter, auth.Config{})
	check("channel", err)
	_, err = auth.New[struct {
		ID string `auth:"id"`
	}](adapter, auth.Config{})
	check("reserved name", err)
	require.ErrorIs(t, err, auth.ErrInvalidInput)
	_, err = auth.New[struct {
		A string `auth:"a.b"`
	}](adapter, auth.Config{})
	check("dot in name", err)
	_, err = auth.New[struct {
		A string `auth:"$a"`
	}](adapter, auth.Config{})
	check("dollar name", err)
	_, err = auth.New[struct {
		A string `auth:"x"`
		B string `auth:"x"`
	}](adapter, auth.Config{})
	check("duplicate name", err)
	_, err = auth.New[struct {
		A string `auth:"a,omitnull"`
	}](adapter, auth.Config{})
	check("unknown option", err)
	_, err = auth.New[struct {
		*contact
	}](adapter, auth.Config{})
	check("embedded pointer", err)
	_, err = auth.New[struct {
		M map[int]string `auth:"m"`
	}](adapter, auth.Config{})
	check("int map keys", err)
	_, err = auth.New[struct {
		S fmtStringer `auth:"s"`
	}](adapter, auth.Config{})
	check("non-empty interface", err)
	_, err = auth.New[[3]int](adapter, auth.Config{})
	check("not a struct", err)
	_, err = auth.New[struct {
		A [3]int `auth:"a"`
	}](adapter, auth.Config{})
	check("array", err)

	// Recursive types are fine.
	type node struct {
		Name     string `auth:"name"`
		Children []node `auth:"children"`
	}
	_, err = auth.New[node](adapter, auth.Config{})
	require.NoError(t, err)
}

type fmtStringer interface{ String() string }

func TestUnstorableValuesWriteNothing(t *testing.T) {
	type odd struct {
		Big   uint64  `auth:"big"`
		Ratio float64 `auth:"ratio"`
		Any   any     `auth:"any"`
	}
	counter := &countingAdapter{Adapter: newMemoryAdapter()}
	a, err := auth.New[odd](counter, auth.Config{})
	require.NoError(t, err)
	for name, v := range map[string]odd{
		"uint64 above int64": {Big: math.MaxUint64},
		"NaN":                {Ratio: math.NaN()},
		"Inf":                {Ratio: math.Inf(1)},
		"channel in any":     {Any: make(chan int)},
	} {
		_, err := a.CreateUser(t.Context(), v, nil)
		require.ErrorIs(t, err, auth.ErrInvalidInput, name)
	}
	_, err = a.CreateUser(t.Context(), odd{Any: map[string]any{"$where": "1"}}, nil)
	require.ErrorIs(t, err, auth.ErrInvalidInput, "nested operator names are refused too")
	assert.Zero(t, counter.count())

	u, err := a.CreateUser(t.Context(), odd{Big: math.MaxInt64, Any: []int{1, 2}}, nil)
	require.NoError(t, err)
	got, err := a.GetUser(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, odd{Big: math.MaxInt64, Any: []any{int64(1), int64(2)}}, got.Attributes, "any holds the normalized value")
}

func TestRawAttributes(t *testing.T) {
	adapter := newMemoryAdapter()
	a, err := auth.New[map[string]any](adapter, auth.Config{})
	require.NoError(t, err)
	u, err := a.CreateUser(t.Context(), map[string]any{"username": "ann", "age": int64(3)}, nil)
	require.NoError(t, err)
	got, err := a.GetUser(t.Context(), u.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"username": "ann", "age": int64(3)}, got.Attributes)
	_, err = a.CreateUser(t.Context(), map[string]any{"_id": "x"}, nil)
	require.ErrorIs(t, err, auth.ErrInvalidInput)
	empty, err := a.CreateUser(t.Context(), nil, nil)
	require.NoError(t, err)
	got, err = a.GetUser(t.Context(), empty.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{}, got.Attributes)
}

func TestOmitEmptyPointerMeansUnchanged(t *testing.T) {
	type patch struct {
		Name  *string `auth:"name,omitempty"`
		Email *string `auth:"email,omitempty"`
	}
	a, err := auth.New[patch](newMemoryAdapter(), auth.Config{})
	require.NoError(t, err)
	name, email, newEmail := "Ann", "ann@example.com", "ann@example.org"
	u, err := a.CreateUser(t.Context(), patch{Name: &name, Email: &email}, nil)
	require.NoError(t, err)
	got, err := a.UpdateUser(t.Context(), u.ID, patch{Email: &newEmail})
	require.NoError(t, err)
	assert.Equal(t, patch{Name: &name, Email: &newEmail}, got.Attributes)
}
