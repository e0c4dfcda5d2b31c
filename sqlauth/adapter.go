package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/luciago/mongoauth/auth"
)

// Adapter is the relational adapter. It is safe for concurrent use.
type Adapter struct {
	db      *sql.DB
	dialect Dialect
	syntax  Syntax
	schema  Schema
	st      statements

	// userShape is the user table's shape once the adapter has looked
	// (see AttributeStorage), sessionShape the session table's (see
	// sessiontable.go).
	userShape    atomic.Pointer[userTable]
	sessionShape atomic.Pointer[sessionTable]
}

var (
	_ auth.Adapter              = (*Adapter)(nil)
	_ auth.SessionAndUserGetter = (*Adapter)(nil)
	_ auth.KeyConsumer          = (*Adapter)(nil)
)

// New returns an adapter over db, speaking dialect. The dialect packages'
// New functions call it; applications call those. It checks the options
// and that the database answers; it does not create tables (see
// CreateTables and CheckSchema), nor look at the user table's columns
// until CheckSchema or the first call that needs them (see
// AttributeStorage).
func New(ctx context.Context, db *sql.DB, dialect Dialect, opts Options) (*Adapter, error) {
	if db == nil || dialect == nil {
		return nil, errors.New("sqlauth: nil database or dialect")
	}
	schema, err := opts.schema()
	if err != nil {
		return nil, err
	}
	syntax := dialect.Syntax()
	a := &Adapter{db: db, dialect: dialect, syntax: syntax, schema: schema, st: newStatements(syntax, schema)}
	if err := db.PingContext(ctx); err != nil {
		return nil, a.wrap(ctx, "connect to "+syntax.Name, err)
	}
	return a, nil
}

// Schema returns the tables the adapter uses and whether it relies on
// foreign keys.
func (a *Adapter) Schema() Schema { return a.schema }

// GetUser implements auth.UserAdapter.
func (a *Adapter) GetUser(ctx context.Context, userID string) (auth.UserRecord, error) {
	if err := auth.CheckID("user id", userID); err != nil {
		return auth.UserRecord{}, err
	}
	users, err := a.users(ctx)
	if err != nil {
		return auth.UserRecord{}, err
	}
	var u auth.UserRecord
	err = a.retry(ctx, func() (err error) {
		u, err = a.readUser(ctx, a.db, users, userID)
		return err
	})
	return u, err
}

func (a *Adapter) getUser(ctx context.Context, q querier, query, userID string) (auth.UserRecord, error) {
	var raw []byte
	err := q.QueryRowContext(ctx, query, userID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.UserRecord{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.UserRecord{}, a.wrap(ctx, "get user", err)
	}
	return a.decodeUser(userID, raw)
}

func (a *Adapter) decodeUser(userID string, raw []byte) (auth.UserRecord, error) {
	attrs, err := decodeAttributes(raw)
	if err != nil {
		return auth.UserRecord{}, &DataError{Table: a.schema.Users.String(), ID: userID, Column: "attributes", Reason: err.Error()}
	}
	return auth.UserRecord{ID: userID, Attributes: attrs}, nil
}

// SetUser implements auth.UserAdapter. With a key, user and key are
// inserted in one transaction. With attribute columns, each attribute is
// checked against its column first (see Column).
//
// In the JSON column, attribute values read back as the types
// auth.UserRecord promises: every integer type as int64, float32 and
// float64 as float64 (whole numbers too), time.Time in UTC with its full
// precision, []byte, slices and arrays as []any, string-keyed maps as
// map[string]any, pointers as what they point to. Values outside these (structs, channels, unsigned integers
// beyond int64, strings that are not UTF-8 or contain NUL, nesting deeper
// than 64 levels) are refused with an *auth.InputError before anything is
// written.
func (a *Adapter) SetUser(ctx context.Context, user auth.UserRecord, key *auth.KeyRecord) error {
	if err := auth.CheckID("user id", user.ID); err != nil {
		return err
	}
	attrs, err := plainAttributes(user.Attributes)
	if err != nil {
		return err
	}
	insert, args, err := a.insertUser(ctx, user.ID, attrs)
	if err != nil {
		return err
	}
	if key == nil {
		return a.retry(ctx, func() error {
			_, err := a.db.ExecContext(ctx, insert, args...)
			return a.insertError(ctx, "user", err, auth.ErrDuplicateUserID)
		})
	}
	if err := checkKey(*key); err != nil {
		return err
	}
	if key.UserID != user.ID {
		return &auth.InputError{Field: "key", Reason: "key.UserID differs from the user's id"}
	}
	return a.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, insert, args...)
		if err := a.insertError(ctx, "user", err, auth.ErrDuplicateUserID); err != nil {
			return err
		}
		return a.insertKey(ctx, tx, *key)
	})
}

// DeleteUser implements auth.UserAdapter. With foreign keys it is one
// DELETE that cascades; with NoForeignKeys one transaction deletes the user,
// then its sessions and keys (see the package documentation for how this
// excludes sessions inserted concurrently).
func (a *Adapter) DeleteUser(ctx context.Context, userID string) error {
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	if a.schema.ForeignKeys {
		return a.retry(ctx, func() error {
			_, err := a.db.ExecContext(ctx, a.st.deleteUser, userID)
			return a.wrap(ctx, "delete user", err)
		})
	}
	return a.inTx(ctx, func(tx *sql.Tx) error {
		for _, step := range []struct{ op, query string }{
			{"delete user", a.st.deleteUser},
			{"delete sessions", a.st.deleteSessionsByUser},
			{"delete keys", a.st.deleteKeysByUser},
		} {
			if _, err := tx.ExecContext(ctx, step.query, userID); err != nil {
				return a.wrap(ctx, step.op, err)
			}
		}
		return nil
	})
}

// UpdateUser implements auth.UserAdapter. With attribute columns it
// updates the named columns and reads the row back, in one transaction.
// With the JSON column it reads the stored attributes with a row lock,
// merges the given ones over them and writes the result back in one
// transaction. Either way concurrent updates of different attributes all
// survive. (The databases' JSON merge functions are not used: they treat
// null as "remove", and merge nested objects instead of replacing them.)
func (a *Adapter) UpdateUser(ctx context.Context, userID string, attributes map[string]any) (auth.UserRecord, error) {
	if err := auth.CheckID("user id", userID); err != nil {
		return auth.UserRecord{}, err
	}
	attrs, err := plainAttributes(attributes)
	if err != nil {
		return auth.UserRecord{}, err
	}
	if len(attrs) == 0 {
		u, err := a.GetUser(ctx, userID)
		return u, notFoundAs(err, auth.ErrInvalidUserID)
	}
	users, err := a.users(ctx)
	if err != nil {
		return auth.UserRecord{}, err
	}
	if !users.json() {
		return a.updateUserColumns(ctx, users, userID, attrs)
	}
	var updated auth.UserRecord
	err = a.inTx(ctx, func(tx *sql.Tx) error {
		u, err := a.getUser(ctx, tx, a.st.lockUserAttributes, userID)
		if err != nil {
			return notFoundAs(err, auth.ErrInvalidUserID)
		}
		maps.Copy(u.Attributes, attrs)
		encoded, err := encodeAttributes(u.Attributes)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, a.st.updateAttributes, encoded, userID); err != nil {
			return a.updateError(ctx, err)
		}
		updated = u
		return nil
	})
	return updated, err
}

// SetKey implements auth.UserAdapter.
func (a *Adapter) SetKey(ctx context.Context, key auth.KeyRecord) error {
	if err := checkKey(key); err != nil {
		return err
	}
	return a.insertOwned(ctx, key.UserID, func(q querier) error { return a.insertKey(ctx, q, key) })
}

func (a *Adapter) insertKey(ctx context.Context, q querier, k auth.KeyRecord) error {
	var hash sql.NullString
	var expires sql.NullInt64
	if k.HashedPassword != nil {
		hash = sql.NullString{String: *k.HashedPassword, Valid: true}
	}
	if k.Expires != nil {
		expires = sql.NullInt64{Int64: *k.Expires, Valid: true}
	}
	_, err := q.ExecContext(ctx, a.st.insertKey, k.ID, k.UserID, hash, k.PrimaryKey, expires)
	return a.insertError(ctx, "key", err, auth.ErrDuplicateKeyID)
}

// GetKey implements auth.UserAdapter.
func (a *Adapter) GetKey(ctx context.Context, keyID string) (auth.KeyRecord, error) {
	if err := auth.CheckID("key id", keyID); err != nil {
		return auth.KeyRecord{}, err
	}
	var k auth.KeyRecord
	err := a.retry(ctx, func() (err error) {
		k, err = a.getKey(ctx, a.db, a.st.getKey, keyID)
		return err
	})
	return k, err
}

func (a *Adapter) getKey(ctx context.Context, q querier, query, keyID string) (auth.KeyRecord, error) {
	k, err := scanKey(q.QueryRowContext(ctx, query, keyID))
	if errors.Is(err, sql.ErrNoRows) {
		return k, auth.ErrNotFound
	}
	return k, a.wrap(ctx, "get key", err)
}

// GetKeysByUserID implements auth.UserAdapter.
func (a *Adapter) GetKeysByUserID(ctx context.Context, userID string) ([]auth.KeyRecord, error) {
	if err := auth.CheckID("user id", userID); err != nil {
		return nil, err
	}
	return queryAll(ctx, a, "get keys", a.st.getKeysByUser, userID, scanKey)
}

// UpdateKeyPassword implements auth.UserAdapter. The key is read with a
// row lock and updated in one transaction (rather than judged by the
// UPDATE's affected-row count, which MySQL reports as 0 when the new hash
// equals the old one).
func (a *Adapter) UpdateKeyPassword(ctx context.Context, keyID string, hashedPassword *string) (auth.KeyRecord, error) {
	if err := auth.CheckID("key id", keyID); err != nil {
		return auth.KeyRecord{}, err
	}
	if err := checkPassword(hashedPassword); err != nil {
		return auth.KeyRecord{}, err
	}
	var hash sql.NullString
	if hashedPassword != nil {
		hash = sql.NullString{String: *hashedPassword, Valid: true}
	}
	var updated auth.KeyRecord
	err := a.inTx(ctx, func(tx *sql.Tx) error {
		k, err := a.getKey(ctx, tx, a.st.lockKey, keyID)
		if err != nil {
			return notFoundAs(err, auth.ErrInvalidKeyID)
		}
		if _, err := tx.ExecContext(ctx, a.st.updatePassword, hash, keyID); err != nil {
			return a.wrap(ctx, "update key", err)
		}
		k.HashedPassword = copyString(hashedPassword)
		updated = k
		return nil
	})
	return updated, err
}

// DeleteNonPrimaryKey implements auth.UserAdapter.
func (a *Adapter) DeleteNonPrimaryKey(ctx context.Context, keyID string) error {
	if err := a.ConsumeKey(ctx, keyID); !errors.Is(err, auth.ErrNotFound) {
		return err
	}
	return nil // a missing key is not an error here
}

// ConsumeKey implements auth.KeyConsumer: the DELETE's count of affected
// rows tells exactly one of any number of concurrent callers that it
// deleted the key.
func (a *Adapter) ConsumeKey(ctx context.Context, keyID string) error {
	if err := auth.CheckID("key id", keyID); err != nil {
		return err
	}
	n, err := a.execCount(ctx, "delete key", a.st.deleteNonPrimaryKey, keyID, false)
	if err == nil && n == 0 {
		return auth.ErrNotFound
	}
	return err
}

// DeleteKeysByUserID implements auth.UserAdapter.
func (a *Adapter) DeleteKeysByUserID(ctx context.Context, userID string) error {
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	return a.exec(ctx, "delete keys", a.st.deleteKeysByUser, userID)
}

// GetSession implements auth.SessionAdapter.
func (a *Adapter) GetSession(ctx context.Context, sessionID string) (auth.SessionRecord, error) {
	if err := auth.CheckID("session id", sessionID); err != nil {
		return auth.SessionRecord{}, err
	}
	t, err := a.sessions(ctx)
	if err != nil {
		return auth.SessionRecord{}, err
	}
	var s auth.SessionRecord
	err = a.retry(ctx, func() error {
		var err error
		s, err = t.scanSession(a.db.QueryRowContext(ctx, t.get, sessionID))
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		return a.wrapRead(ctx, "get session", err)
	})
	return s, err
}

// GetSessionsByUserID implements auth.SessionAdapter.
func (a *Adapter) GetSessionsByUserID(ctx context.Context, userID string) ([]auth.SessionRecord, error) {
	if err := auth.CheckID("user id", userID); err != nil {
		return nil, err
	}
	t, err := a.sessions(ctx)
	if err != nil {
		return nil, err
	}
	return queryAll(ctx, a, "get sessions", t.getByUser, userID, t.scanSession)
}

// SetSession implements auth.SessionAdapter. With foreign keys it is one
// INSERT that the database checks; with NoForeignKeys the user is locked
// for share and checked in the inserting transaction (see the package
// documentation). Attributes go where the session table has room for them
// (see sessiontable.go); a table without room refuses them with an
// *auth.InputError, storing nothing.
func (a *Adapter) SetSession(ctx context.Context, session auth.SessionRecord) error {
	if err := auth.CheckID("session id", session.ID); err != nil {
		return err
	}
	if err := auth.CheckID("user id", session.UserID); err != nil {
		return err
	}
	attrs, err := plainSessionAttributes(session.Attributes)
	if err != nil {
		return err
	}
	insert, args, err := a.insertSession(ctx, session, attrs)
	if err != nil {
		return err
	}
	return a.insertOwned(ctx, session.UserID, func(q querier) error {
		_, err := q.ExecContext(ctx, insert, args...)
		return a.insertError(ctx, "session", err, auth.ErrDuplicateSessionID)
	})
}

// insertOwned runs insert, which writes a row belonging to userID, so that
// the row is only stored while the user exists: as a plain statement that
// the foreign key checks, or, with NoForeignKeys, in a transaction that
// first locks the user's row for share.
func (a *Adapter) insertOwned(ctx context.Context, userID string, insert func(querier) error) error {
	if a.schema.ForeignKeys {
		return a.retry(ctx, func() error { return insert(a.db) })
	}
	return a.inTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, a.st.lockUser, userID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrInvalidUserID
		}
		if err != nil {
			return a.wrap(ctx, "lock user", err)
		}
		return insert(tx)
	})
}

// DeleteSession implements auth.SessionAdapter.
func (a *Adapter) DeleteSession(ctx context.Context, sessionID string) error {
	if err := auth.CheckID("session id", sessionID); err != nil {
		return err
	}
	return a.exec(ctx, "delete session", a.st.deleteSession, sessionID)
}

// DeleteSessionsByUserID implements auth.SessionAdapter.
func (a *Adapter) DeleteSessionsByUserID(ctx context.Context, userID string) error {
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	return a.exec(ctx, "delete sessions", a.st.deleteSessionsByUser, userID)
}

// GetSessionAndUser implements auth.SessionAndUserGetter with one query
// that joins the session to its user. A session whose user is missing
// (possible only in NoForeignKeys mode, for rows written by other
// programs, or with foreign keys turned off) comes back with
// auth.ErrNotFound, as the contract asks.
func (a *Adapter) GetSessionAndUser(ctx context.Context, sessionID string) (auth.SessionRecord, auth.UserRecord, error) {
	if err := auth.CheckID("session id", sessionID); err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	users, err := a.users(ctx)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	sessions, err := a.sessions(ctx)
	if err != nil {
		return auth.SessionRecord{}, auth.UserRecord{}, err
	}
	query := a.joinWith(sessions, users)
	var s auth.SessionRecord
	var u auth.UserRecord
	orphan := false
	err = a.retry(ctx, func() error {
		var r sessionRow
		row := a.db.QueryRowContext(ctx, query, sessionID)
		var err error
		if users.json() {
			var userID sql.Null[[]byte]
			var raw []byte
			if err = row.Scan(append(sessions.dest(&r), &userID, &raw)...); err == nil && userID.Valid {
				u, err = a.decodeUser(r.rec.UserID, raw)
			}
			orphan = err == nil && !userID.Valid
		} else {
			u, err = a.scanUser(users, row, sessions.dest(&r)...)
			orphan = errors.Is(err, errNoUserRow)
		}
		if orphan {
			err = nil
		}
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		if err != nil {
			return a.wrapRead(ctx, "get session and user", err)
		}
		s, err = sessions.record(&r)
		return err
	})
	switch {
	case err != nil:
		return auth.SessionRecord{}, auth.UserRecord{}, err
	case orphan:
		return s, auth.UserRecord{}, auth.ErrNotFound // the caller deletes it
	}
	return s, u, nil
}

// wrapRead is wrap for a read whose error may be a *DataError (a stored
// value the adapter cannot read), which is passed on as it is.
func (a *Adapter) wrapRead(ctx context.Context, op string, err error) error {
	var de *DataError
	if errors.As(err, &de) {
		return err
	}
	return a.wrap(ctx, op, err)
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (auth.KeyRecord, error) {
	var k auth.KeyRecord
	var hash sql.NullString
	var expires sql.NullInt64
	if err := row.Scan(&k.ID, &k.UserID, &hash, &k.PrimaryKey, &expires); err != nil {
		return auth.KeyRecord{}, err
	}
	if hash.Valid {
		k.HashedPassword = &hash.String
	}
	if expires.Valid {
		k.Expires = &expires.Int64
	}
	return k, nil
}

// queryAll returns every row of a query by user id, never nil.
func queryAll[T any](ctx context.Context, a *Adapter, op, query, userID string, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	err := a.retry(ctx, func() error {
		out = []T{}
		rows, err := a.db.QueryContext(ctx, query, userID)
		if err != nil {
			return a.wrap(ctx, op, err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return a.wrapRead(ctx, op, err)
			}
			out = append(out, v)
		}
		return a.wrap(ctx, op, rows.Err())
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// exec runs one statement whose outcome needs no inspection.
func (a *Adapter) exec(ctx context.Context, op, query string, args ...any) error {
	_, err := a.execCount(ctx, op, query, args...)
	return err
}

// execCount is exec that also returns the number of rows affected.
func (a *Adapter) execCount(ctx context.Context, op, query string, args ...any) (int64, error) {
	var n int64
	err := a.retry(ctx, func() error {
		res, err := a.db.ExecContext(ctx, query, args...)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return a.wrap(ctx, op, err)
	})
	return n, err
}

// insertError turns an INSERT's constraint violation into the contract's
// error: a primary key violation means the id of the row being inserted is
// taken; another unique index (one the application added) gives an
// *auth.DuplicateValueError. A unique index on the id column alone is the
// primary key's twin (Prisma's @id @unique makes one, and SQLite reports
// it instead of the primary key), so it also means a taken id.
func (a *Adapter) insertError(ctx context.Context, record string, err, duplicate error) error {
	switch a.dialect.Classify(err) {
	case UniqueViolation:
		return duplicate
	case DuplicateValue:
		if _, columns := a.dialect.UniqueIndex(err); len(columns) == 1 && columns[0] == "id" {
			return duplicate
		}
		return a.duplicateValue(err)
	case ForeignKeyViolation:
		return auth.ErrInvalidUserID
	}
	return a.wrap(ctx, "insert "+record, err)
}

// updateError reports a failed UPDATE of a user's attributes, in either
// table shape: a clash on a unique index is a duplicate value.
func (a *Adapter) updateError(ctx context.Context, err error) error {
	if a.dialect.Classify(err) == DuplicateValue {
		return a.duplicateValue(err)
	}
	return a.wrap(ctx, "update user", err)
}

// duplicateValue reports a row refused by a unique index other than the
// primary key, naming the index as the database does.
func (a *Adapter) duplicateValue(err error) error {
	name, columns := a.dialect.UniqueIndex(err)
	return &auth.DuplicateValueError{Index: name, Fields: columns, Err: err}
}

func checkKey(k auth.KeyRecord) error {
	if err := auth.CheckID("key id", k.ID); err != nil {
		return err
	}
	if err := auth.CheckID("user id", k.UserID); err != nil {
		return err
	}
	return checkPassword(k.HashedPassword)
}

// checkPassword refuses hashes that no text column on every database can
// hold. Lucia's hashes are ASCII.
func checkPassword(hash *string) error {
	switch {
	case hash == nil:
		return nil
	case !utf8.ValidString(*hash):
		return &auth.InputError{Field: "hashed password", Reason: "not valid UTF-8"}
	case strings.IndexByte(*hash, 0) >= 0:
		return &auth.InputError{Field: "hashed password", Reason: "contains NUL"}
	}
	return nil
}

func copyString(s *string) *string {
	if s == nil {
		return nil
	}
	c := *s
	return &c
}

// notFoundAs turns auth.ErrNotFound into the error an update reports for a
// missing record.
func notFoundAs(err, missing error) error {
	if errors.Is(err, auth.ErrNotFound) {
		return missing
	}
	return err
}

// DataError reports a stored row this adapter cannot read, such as
// attributes that are not a JSON object, left by another program or by
// hand. The row is not changed.
type DataError struct {
	// Table is the table, as named in Options.
	Table string
	// ID is the row's id.
	ID string
	// Column is the offending column.
	Column string
	// Reason says what is wrong.
	Reason string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("sqlauth: cannot read row %s of %s: column %s: %s", e.ID, e.Table, e.Column, e.Reason)
}
