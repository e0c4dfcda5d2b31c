package sqlauth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsSchema(t *testing.T) {
	s, err := Options{}.schema()
	require.NoError(t, err)
	assert.Equal(t, Schema{Users: Table{Name: "auth_user"}, Sessions: Table{Name: "auth_session"}, Keys: Table{Name: "auth_key"}, ForeignKeys: true}, s)

	s, err = Options{UserTable: "app.User", SessionTable: "_s1", NoForeignKeys: true}.schema()
	require.NoError(t, err)
	assert.Equal(t, Table{Schema: "app", Name: "User"}, s.Users)
	assert.Equal(t, "app.User", s.Users.String())
	assert.False(t, s.ForeignKeys)

	s, err = Options{Attributes: AttributesInColumns}.schema()
	require.NoError(t, err)
	assert.Equal(t, AttributesInColumns, s.Attributes)
	assert.Empty(t, s.JSONColumn("attributes JSON"), "CreateTables leaves the attribute columns to the application")
	assert.Equal(t, "AttributesInColumns", s.Attributes.String())

	for _, bad := range []Options{
		{UserTable: "a b"}, {UserTable: "1a"}, {UserTable: "a.b.c"}, {UserTable: ".a"}, {UserTable: "a."},
		{UserTable: "é"}, {UserTable: `a"b`}, {UserTable: "a`b"}, {KeyTable: "auth_user"},
		{Attributes: AttributesInColumns + 1}, {Attributes: -1},
	} {
		_, err := bad.schema()
		assert.Error(t, err, "%+v", bad)
	}
}

func TestSyntax(t *testing.T) {
	pg := Syntax{IdentifierQuote: `"`, NumberedPlaceholders: true}
	assert.Equal(t, "SELECT $1, $2, $3", pg.Bind("SELECT ?, ?, ?"))
	// A '?' in a quoted identifier or a string literal is no placeholder.
	assert.Equal(t, `SELECT "a?b", "c""?""d" FROM t WHERE x = $1 AND y = 'why?' AND z = 'it''s ?' AND w = $2`,
		pg.Bind(`SELECT "a?b", "c""?""d" FROM t WHERE x = ? AND y = 'why?' AND z = 'it''s ?' AND w = ?`))
	assert.Equal(t, `UPDATE t SET "?" = $1, "'" = $2 WHERE id = $3`, pg.Bind(`UPDATE t SET "?" = ?, "'" = ? WHERE id = ?`))
	assert.Equal(t, `"s"."t"`, Table{Schema: "s", Name: "t"}.Quoted(pg))
	my := Syntax{IdentifierQuote: "`"}
	assert.Equal(t, "SELECT ?, ?", my.Bind("SELECT ?, ?"))
	assert.Equal(t, "`t`", Table{Name: "t"}.Quoted(my))
}
