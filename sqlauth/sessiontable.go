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

// Session attributes (auth.SessionRecord.Attributes) live where the
// session table has room for them, in the shape user attributes take:
//
//   - a JSON column "attributes", which CreateTables gives new session
//     tables and adds to those an earlier version created (NULL: no
//     attributes, so rows Lucia or earlier versions insert read as none);
//   - or columns of their own, any column besides Lucia's four (id,
//     user_id, active_expires, idle_expires), typed as user-table columns
//     are (see Column);
//   - or nowhere: Lucia v1's session tables have no more columns. Sessions
//     without attributes work there as ever; one with attributes is
//     refused with an *auth.InputError before anything is written.
//
// Options.Attributes decides as it does for the user table: the JSON
// column when the table has one named "attributes" (or AttributesJSON is
// set), columns otherwise (or with AttributesInColumns). The adapter looks
// at the session table at its first session call, and again at every
// CheckSchema and CreateTables. A column whose type no attribute maps to,
// or whose name no session attribute may take, is left alone: read never,
// written never.

// sessionTable is the shape of the session table as the adapter last
// learned it, with the statements that read sessions in that shape.
type sessionTable struct {
	// json is the JSON column; otherwise attributeColumns are the
	// attribute columns, none where the table has no place for them.
	json bool
	attributeColumns
	// ignored are the other columns that cannot hold attributes, with
	// the reason, for the error that refuses an attribute of that name.
	ignored map[string]string

	// selectList is what the statements read: sessionBase, then the JSON
	// column or the attribute columns, each qualified with "s.".
	selectList     string
	get, getByUser string
	// insertJSON inserts a session with the JSON column (json only).
	insertJSON string
	// joined is the statement that reads a session with its user, made
	// for the user table's shape of the moment.
	joined atomic.Pointer[joinStatement]
}

type joinStatement struct {
	users *userTable
	query string
}

// hasPlace reports whether the table can hold session attributes.
func (t *sessionTable) hasPlace() bool { return t.json || len(t.columns) > 0 }

// sessions returns the session table's shape, looking at the table when
// the adapter has not yet.
func (a *Adapter) sessions(ctx context.Context) (*sessionTable, error) {
	if t := a.sessionShape.Load(); t != nil {
		return t, nil
	}
	return a.inspectSessions(ctx)
}

// inspectSessions reads the session table's columns and remembers its
// shape.
func (a *Adapter) inspectSessions(ctx context.Context) (*sessionTable, error) {
	return inspect(ctx, a, a.schema.Sessions, a.newSessionTable, &a.sessionShape)
}

// newSessionTable makes the shape of a session table with columns cols.
func (a *Adapter) newSessionTable(cols []Column) (*sessionTable, error) {
	if len(cols) == 0 {
		return nil, &SchemaError{Table: a.schema.Sessions.String(), Reason: "missing"}
	}
	if !slices.ContainsFunc(cols, func(c Column) bool { return c.Name == issuedAtColumn }) {
		return nil, a.missingIssuedAt()
	}
	extra := slices.DeleteFunc(slices.Clone(cols), func(c Column) bool { return slices.Contains(sessionBase, c.Name) })
	hasJSON := slices.ContainsFunc(extra, func(c Column) bool { return c.Name == "attributes" })
	t := &sessionTable{
		attributeColumns: attributeColumns{table: a.schema.Sessions, index: map[string]int{}},
		ignored:          map[string]string{},
	}
	names := slices.Clone(sessionBase)
	switch {
	case hasJSON && a.schema.Attributes != AttributesInColumns:
		t.json = true
		names = append(names, "attributes")
	case a.schema.Attributes == AttributesJSON:
		// No JSON column: no place for attributes.
	default:
		for _, c := range extra {
			if c.Type == UnsupportedColumn {
				t.ignored[c.Name] = fmt.Sprintf("column %s has type %s, which no attribute maps to", c.Name, c.DatabaseType)
				continue
			}
			if err := auth.CheckSessionAttributes(map[string]any{c.Name: nil}); err != nil {
				t.ignored[c.Name] = fmt.Sprintf("column %s cannot be a session attribute: %v", c.Name, err)
				continue
			}
			t.index[c.Name] = len(t.columns)
			t.columns = append(t.columns, c)
			names = append(names, a.syntax.Quote(c.Name))
		}
	}
	sessions := a.schema.Sessions.Quoted(a.syntax)
	t.get = a.syntax.Bind("SELECT " + strings.Join(names, ", ") + " FROM " + sessions + " WHERE id = ?")
	t.getByUser = a.syntax.Bind("SELECT " + strings.Join(names, ", ") + " FROM " + sessions + " WHERE user_id = ?")
	t.selectList = "s." + strings.Join(names, ", s.")
	if t.json {
		t.insertJSON = a.insertStatement(a.schema.Sessions, names)
	}
	return t, nil
}

// joinWith returns the statement that reads a session with its user in
// the user table's shape u.
func (a *Adapter) joinWith(t *sessionTable, u *userTable) string {
	if j := t.joined.Load(); j != nil && j.users == u {
		return j.query
	}
	userList := "u.id, u.attributes"
	if !u.json() {
		userList = u.selectList // u.id first
	}
	// A LEFT JOIN, so that an orphan session reads with a NULL user id.
	query := a.syntax.Bind("SELECT " + t.selectList + ", " + userList + " FROM " + a.schema.Sessions.Quoted(a.syntax) +
		" s LEFT JOIN " + a.schema.Users.Quoted(a.syntax) + " u ON u.id = s.user_id WHERE s.id = ?")
	t.joined.Store(&joinStatement{users: u, query: query})
	return query
}

// sessionRow receives one row of a session select list.
type sessionRow struct {
	rec    auth.SessionRecord
	issued sql.NullInt64 // NULL in rows Lucia inserts
	raw    []byte        // the JSON column; nil for NULL
	values []any         // the attribute columns
}

// dest returns the scan destinations of a row of t's select list.
func (t *sessionTable) dest(r *sessionRow) []any {
	dest := []any{&r.rec.ID, &r.rec.UserID, &r.rec.ActiveExpires, &r.rec.IdleExpires, &r.issued}
	if t.json {
		return append(dest, &r.raw)
	}
	r.values = make([]any, len(t.columns))
	for i := range r.values {
		dest = append(dest, &r.values[i])
	}
	return dest
}

// record returns the scanned session with its attributes: none (nil) for
// a NULL or empty JSON column or a table without attribute columns.
func (t *sessionTable) record(r *sessionRow) (auth.SessionRecord, error) {
	s := r.rec
	s.IssuedAt = r.issued.Int64 // 0 for NULL
	var err error
	switch {
	case t.json && r.raw != nil:
		if s.Attributes, err = decodeAttributes(r.raw); err != nil {
			return auth.SessionRecord{}, &DataError{Table: t.table.String(), ID: s.ID, Column: "attributes", Reason: err.Error()}
		}
	case len(t.columns) > 0:
		if s.Attributes, err = t.read(s.ID, r.values); err != nil {
			return auth.SessionRecord{}, err
		}
	}
	if len(s.Attributes) == 0 {
		s.Attributes = nil
	}
	return s, nil
}

// scanSession reads one row of t's select list.
func (t *sessionTable) scanSession(row scanner) (auth.SessionRecord, error) {
	var r sessionRow
	if err := row.Scan(t.dest(&r)...); err != nil {
		return auth.SessionRecord{}, err
	}
	return t.record(&r)
}

// plainSessionAttributes is plainAttributes for session attributes, whose
// names auth.CheckSessionAttributes checks.
func plainSessionAttributes(attrs map[string]any) (map[string]any, error) {
	plain, err := plainAttributes(attrs)
	if err != nil {
		return nil, err
	}
	return plain, auth.CheckSessionAttributes(plain)
}

// refusal returns the error that refuses attrs before anything is
// written, when t cannot hold them: a name whose column cannot be an
// attribute, or a table without any place for attributes. Unknown names
// in a table with attribute columns are columnValues' business.
func (t *sessionTable) refusal(attrs map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		if reason, ok := t.ignored[name]; ok {
			return &auth.InputError{Field: "session attribute", Name: name, Reason: reason}
		}
		if !t.hasPlace() {
			return &auth.InputError{Field: "session attribute", Name: name, Reason: fmt.Sprintf(
				"table %s has no place for session attributes: no attributes column and no column of that name (CreateTables adds the attributes column to session tables it made)", t.table)}
		}
	}
	return nil
}

// insertSession returns the statement, with its arguments, that inserts
// s with plain attributes attrs (none: the session columns alone, so that
// such a session is stored whatever the table's shape).
func (a *Adapter) insertSession(ctx context.Context, s auth.SessionRecord, attrs map[string]any) (string, []any, error) {
	// The shape is known after the first call; it also says whether the
	// table has issued_at.
	t, err := a.sessions(ctx)
	if err != nil {
		return "", nil, err
	}
	issued := sql.NullInt64{Int64: s.IssuedAt, Valid: s.IssuedAt != 0}
	args := []any{s.ID, s.UserID, s.ActiveExpires, s.IdleExpires, issued}
	if len(attrs) == 0 {
		return a.st.insertSession, args, nil
	}
	if err := t.refusal(attrs); err != nil {
		return "", nil, err
	}
	if t.json {
		encoded, err := encodeAttributes(attrs)
		if err != nil {
			return "", nil, err
		}
		return t.insertJSON, append(args, encoded), nil
	}
	columns, values, err := a.columnValues(&t.attributeColumns, attrs, true)
	if err != nil {
		return "", nil, err
	}
	return a.insertStatement(a.schema.Sessions, append(slices.Clone(sessionBase), columns...)), append(args, values...), nil
}

// updateSessionJSON is UpdateSession with attributes in the JSON column:
// a read of the stored attributes under a row lock, the given ones merged
// over them, and one UPDATE of them and of the expiry times given (set,
// args), in one transaction, so that concurrent updates of different
// attributes all survive (as UpdateUser does).
func (a *Adapter) updateSessionJSON(ctx context.Context, t *sessionTable, sessionID string, set []string, args []any, attrs map[string]any) error {
	update := a.syntax.Bind("UPDATE " + a.schema.Sessions.Quoted(a.syntax) + " SET " + strings.Join(append(set, "attributes = ?"), ", ") + " WHERE id = ?")
	return a.inTx(ctx, func(tx *sql.Tx) error {
		var raw []byte
		err := tx.QueryRowContext(ctx, a.st.lockSessionAttributes, sessionID).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return a.wrap(ctx, "get session", err)
		}
		stored := map[string]any{}
		if raw != nil {
			if stored, err = decodeAttributes(raw); err != nil {
				return &DataError{Table: t.table.String(), ID: sessionID, Column: "attributes", Reason: err.Error()}
			}
		}
		maps.Copy(stored, attrs)
		encoded, err := encodeAttributes(stored)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, update, append(slices.Clip(args), encoded, sessionID)...)
		return a.wrap(ctx, "update session", err)
	})
}

// issuedAtColumn holds a session's creation time, in Unix milliseconds
// (auth.SessionRecord.IssuedAt), for auth.Config.SessionMaxAge; NULL in
// rows Lucia inserts. Syntax.IssuedAt defines it.
const issuedAtColumn = "issued_at"

// missingIssuedAt is the error for a session table without issuedAtColumn.
func (a *Adapter) missingIssuedAt() error {
	return &SchemaError{Table: a.schema.Sessions.String(), Reason: "no column " + issuedAtColumn +
		" (a session's creation time, which auth.Config.SessionMaxAge needs): CreateTables adds it, or run ALTER TABLE " +
		a.schema.Sessions.String() + " ADD COLUMN " + a.syntax.IssuedAt + " (Prisma: " + issuedAtColumn + " BigInt? in the session model)"}
}

// addIssuedAt gives a session table without issuedAtColumn (made by an
// earlier version, or by Lucia's schema) the nullable column: existing
// rows read as sessions without a creation time, and Lucia, which names
// the columns it writes, is not affected. Of two processes adding it at
// once, the one that fails finds the column there and is content.
func (a *Adapter) addIssuedAt(ctx context.Context) error {
	has := func() (bool, error) {
		var cols []Column
		err := a.retry(ctx, func() (err error) {
			cols, err = a.dialect.Columns(ctx, a.db, a.schema.Sessions)
			return err
		})
		return slices.ContainsFunc(cols, func(c Column) bool { return c.Name == issuedAtColumn }), a.wrap(ctx, "read the columns of "+a.schema.Sessions.String(), err)
	}
	if ok, err := has(); ok || err != nil {
		return err
	}
	alter := "ALTER TABLE " + a.schema.Sessions.Quoted(a.syntax) + " ADD COLUMN " + a.syntax.IssuedAt
	if err := a.retry(ctx, func() error { _, err := a.db.ExecContext(ctx, alter); return err }); err != nil {
		if ok, herr := has(); herr == nil && ok {
			return nil
		}
		return a.wrap(ctx, "add the "+issuedAtColumn+" column to "+a.schema.Sessions.String(), err)
	}
	return nil
}

// addSessionAttributes gives a session table made by an earlier version
// of CreateTables, which has Lucia's four columns only, the JSON column
// the current version creates. It leaves alone a table that has other
// columns already, and one beside a user table that keeps attributes in
// columns (a Lucia application's tables, which its schema tool owns). Of
// two processes adding the column at once, the one that fails finds the
// column there and is content.
func (a *Adapter) addSessionAttributes(ctx context.Context) error {
	if a.schema.Attributes == AttributesInColumns || a.syntax.SessionAttributes == "" {
		return nil
	}
	users, err := a.users(ctx)
	if err != nil || !users.json() {
		return err
	}
	t, err := a.inspectSessions(ctx)
	if err != nil || t.json || len(t.columns) > 0 || len(t.ignored) > 0 {
		return err
	}
	alter := "ALTER TABLE " + a.schema.Sessions.Quoted(a.syntax) + " ADD COLUMN " + a.syntax.SessionAttributes
	if err := a.retry(ctx, func() error { _, err := a.db.ExecContext(ctx, alter); return err }); err != nil {
		if t, ierr := a.inspectSessions(ctx); ierr == nil && t.json {
			return nil
		}
		return a.wrap(ctx, "add the attributes column to "+a.schema.Sessions.String(), err)
	}
	_, err = a.inspectSessions(ctx)
	return err
}
