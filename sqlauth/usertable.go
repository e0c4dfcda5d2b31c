package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/luciago/mongoauth/auth"
)

// userTable is the shape of the user table as the adapter last learned it:
// the JSON column, or attribute columns with the statements that read them.
type userTable struct {
	// attributeColumns are nil for the JSON column.
	attributeColumns

	get string
	// selectList is the columns get reads, each qualified as "u.", for
	// the join with the session table.
	selectList string
}

// attributeColumns are the attribute columns of a table, in table order.
type attributeColumns struct {
	table   Table
	columns []Column
	index   map[string]int // attribute name → position in columns
}

// jsonUsers is the JSON shape, whose statements are in Adapter.st.
var jsonUsers = &userTable{}

func (u *userTable) json() bool { return u.columns == nil }

// users returns the user table's shape, looking at the table when it has
// not yet (see AttributeStorage).
func (a *Adapter) users(ctx context.Context) (*userTable, error) {
	if a.schema.Attributes == AttributesJSON {
		return jsonUsers, nil
	}
	if u := a.userShape.Load(); u != nil {
		return u, nil
	}
	return a.inspectUsers(ctx)
}

// inspectUsers reads the user table's columns and remembers its shape.
func (a *Adapter) inspectUsers(ctx context.Context) (*userTable, error) {
	return inspect(ctx, a, a.schema.Users, a.newUserTable, &a.userShape)
}

// inspect reads the columns of table t, makes its shape with build and
// remembers it in shape.
func inspect[T any](ctx context.Context, a *Adapter, t Table, build func([]Column) (*T, error), shape *atomic.Pointer[T]) (*T, error) {
	var cols []Column
	err := a.retry(ctx, func() (err error) {
		cols, err = a.dialect.Columns(ctx, a.db, t)
		return err
	})
	if err != nil {
		return nil, a.wrap(ctx, "read the columns of "+t.String(), err)
	}
	made, err := build(cols)
	if err != nil {
		return nil, err
	}
	shape.Store(made)
	return made, nil
}

// newUserTable makes the shape of a user table with columns cols.
func (a *Adapter) newUserTable(cols []Column) (*userTable, error) {
	fail := func(reason string, args ...any) error {
		return &SchemaError{Table: a.schema.Users.String(), Reason: fmt.Sprintf(reason, args...)}
	}
	if len(cols) == 0 {
		return nil, fail("missing")
	}
	i := slices.IndexFunc(cols, func(c Column) bool { return c.Name == "id" })
	if i < 0 {
		return nil, fail("no id column")
	}
	attrs := slices.Delete(slices.Clone(cols), i, i+1)
	if a.schema.Attributes == DetectAttributes && slices.ContainsFunc(attrs, func(c Column) bool { return c.Name == "attributes" }) {
		return jsonUsers, nil
	}
	u := &userTable{attributeColumns: attributeColumns{table: a.schema.Users, columns: attrs, index: make(map[string]int, len(attrs))}}
	names := []string{"id"}
	for i, c := range attrs {
		if c.Type == UnsupportedColumn {
			return nil, fail("column %s has type %s, which no attribute maps to (text, integer, boolean, float, decimal, time, bytes or JSON)", c.Name, c.DatabaseType)
		}
		if err := auth.CheckAttributes(map[string]any{c.Name: nil}); err != nil {
			return nil, fail("column %q cannot be an attribute: %v", c.Name, err)
		}
		u.index[c.Name] = i
		names = append(names, a.syntax.Quote(c.Name))
	}
	u.get = a.syntax.Bind("SELECT " + strings.Join(names, ", ") + " FROM " + a.schema.Users.Quoted(a.syntax) + " WHERE id = ?")
	u.selectList = "u." + strings.Join(names, ", u.")
	return u, nil
}

// errNoUserRow is scanUser's answer to a NULL id: the user side of a LEFT
// JOIN that found no user.
var errNoUserRow = errors.New("sqlauth: no user row")

// scanUser reads a row of u.get: the id, then the attribute columns.
func (a *Adapter) scanUser(u *userTable, row scanner, dest ...any) (auth.UserRecord, error) {
	values := make([]any, len(u.columns)+1)
	for i := range values {
		dest = append(dest, &values[i])
	}
	if err := row.Scan(dest...); err != nil {
		return auth.UserRecord{}, err
	}
	if values[0] == nil {
		return auth.UserRecord{}, errNoUserRow
	}
	id, ok := values[0].(string)
	if b, isBytes := values[0].([]byte); isBytes {
		id, ok = string(b), true
	}
	if !ok {
		return auth.UserRecord{}, &DataError{Table: a.schema.Users.String(), Column: "id", Reason: fmt.Sprintf("id is %T", values[0])}
	}
	attrs, err := u.read(id, values[1:])
	return auth.UserRecord{ID: id, Attributes: attrs}, err
}

// read converts the values scanned from the attribute columns of the row
// with the given id into attributes.
func (c *attributeColumns) read(id string, values []any) (map[string]any, error) {
	attrs := make(map[string]any, len(c.columns))
	for i, col := range c.columns {
		v, err := attributeValue(col, values[i])
		if err != nil {
			return nil, &DataError{Table: c.table.String(), ID: id, Column: col.Name, Reason: err.Error()}
		}
		attrs[col.Name] = v
	}
	return attrs, nil
}

// readUser reads one user in the shape u.
func (a *Adapter) readUser(ctx context.Context, q querier, u *userTable, userID string) (auth.UserRecord, error) {
	if u.json() {
		return a.getUser(ctx, q, a.st.getUser, userID)
	}
	rec, err := a.scanUser(u, q.QueryRowContext(ctx, u.get, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	return rec, a.wrapRead(ctx, "get user", err)
}

// columnValues checks attrs against the columns and returns the quoted
// names of the columns they set with the values to bind, in table order.
// An insert must also set every column that is neither optional nor
// generated.
func (a *Adapter) columnValues(u *attributeColumns, attrs map[string]any, insert bool) (names []string, values []any, err error) {
	given := make([]bool, len(u.columns))
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		i, ok := u.index[name]
		if !ok {
			return nil, nil, &auth.InputError{Field: "attribute", Name: name,
				Reason: fmt.Sprintf("table %s has no column of that name", u.table)}
		}
		given[i] = true
	}
	for i, c := range u.columns {
		if !given[i] {
			if insert && !c.Optional && !c.Generated {
				return nil, nil, &auth.InputError{Field: "attribute", Name: c.Name, Reason: "missing: column is NOT NULL without a default"}
			}
			continue
		}
		v, err := columnValue(c, attrs[c.Name], a.syntax)
		if err != nil {
			return nil, nil, err
		}
		names = append(names, a.syntax.Quote(c.Name))
		values = append(values, v)
	}
	return names, values, nil
}

// insertUser returns the statement, with its arguments, that inserts a
// user with plain attributes attrs.
func (a *Adapter) insertUser(ctx context.Context, userID string, attrs map[string]any) (string, []any, error) {
	u, err := a.users(ctx)
	if err != nil {
		return "", nil, err
	}
	if u.json() {
		encoded, err := encodeAttributes(attrs)
		return a.st.insertUser, []any{userID, encoded}, err
	}
	names, values, err := a.columnValues(&u.attributeColumns, attrs, true)
	if err != nil {
		return "", nil, err
	}
	return a.insertStatement(a.schema.Users, append([]string{"id"}, names...)), append([]any{userID}, values...), nil
}

// insertStatement returns the INSERT of one row into table t that sets the
// columns names, quoted already, each from a bind parameter in turn.
func (a *Adapter) insertStatement(t Table, names []string) string {
	return a.syntax.Bind("INSERT INTO " + t.Quoted(a.syntax) + " (" + strings.Join(names, ", ") +
		") VALUES (?" + strings.Repeat(", ?", len(names)-1) + ")")
}

// updateUserColumns is UpdateUser for attribute columns: one UPDATE of the
// named columns, then the row as stored, in one transaction. Columns not
// named are not written, so concurrent updates of different attributes
// all survive without a read-modify-write.
func (a *Adapter) updateUserColumns(ctx context.Context, u *userTable, userID string, attrs map[string]any) (auth.UserRecord, error) {
	names, values, err := a.columnValues(&u.attributeColumns, attrs, false)
	if err != nil {
		return auth.UserRecord{}, err
	}
	query := a.syntax.Bind("UPDATE " + a.schema.Users.Quoted(a.syntax) + " SET " + strings.Join(names, " = ?, ") + " = ? WHERE id = ?")
	var updated auth.UserRecord
	err = a.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, query, append(values, userID)...); err != nil {
			return a.updateError(ctx, err)
		}
		rec, err := a.readUser(ctx, tx, u, userID)
		updated = rec
		return notFoundAs(err, auth.ErrInvalidUserID)
	})
	return updated, err
}

// UserColumns returns the attribute columns of the user table, looking at
// the table if the adapter has not yet; none when attributes are kept in
// the JSON column. See AttributeStorage.
func (a *Adapter) UserColumns(ctx context.Context) ([]Column, error) {
	u, err := a.users(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clone(u.columns), nil
}
