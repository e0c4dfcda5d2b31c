package sqlauth

import (
	"context"
	"fmt"
)

// SchemaError reports tables that the adapter cannot work with: missing, or
// missing a column, or (in the default mode) without the foreign keys the
// adapter relies on. Nothing is changed.
type SchemaError struct {
	// Table is the table, as named in Options.
	Table string
	// Reason says what is wrong.
	Reason string
	// Err is the database's error, if one was the cause.
	Err error
}

func (e *SchemaError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("sqlauth: table %s: %s: %v", e.Table, e.Reason, e.Err)
	}
	return fmt.Sprintf("sqlauth: table %s: %s", e.Table, e.Reason)
}

func (e *SchemaError) Unwrap() error { return e.Err }

// CreateTablesSQL returns the statements that Adapter.CreateTables runs
// for dialect and opts, for applications that manage their schema with a
// migration tool; it needs no connection. The dialect packages'
// documentation shows them for the default names.
func CreateTablesSQL(dialect Dialect, opts Options) ([]string, error) {
	schema, err := opts.schema()
	if err != nil {
		return nil, err
	}
	return dialect.CreateTables(schema), nil
}

// CreateTables creates the three tables and the user_id indexes where they
// are missing, with the foreign keys unless Options.NoForeignKeys is set,
// and with Options.ThrottleTable the table of ThrottleStore, then runs
// CheckSchema. It is idempotent: existing tables and indexes are
// left as they are, which is why the check follows. Run it at start-up, or
// run the statements of CreateTablesSQL in a migration instead.
//
// One change is made to existing tables: a session table as earlier
// versions created it (Lucia's four columns, beside a user table with the
// JSON column) gets the nullable JSON column for session attributes that
// new ones have (Syntax.SessionAttributes): ALTER TABLE auth_session ADD
// COLUMN attributes ..., which changes only the table's definition on
// PostgreSQL, MariaDB 10.3+ and MySQL 8 (SQLite reads the rows once to
// check them, MySQL 5.7 rebuilds the table) and leaves every row without
// attributes. A migration does the same with that statement. Session tables of other shapes (Lucia's
// tables beside a user table with attribute columns) are left alone.
//
// The schemas or databases that qualify table names must exist already.
func (a *Adapter) CreateTables(ctx context.Context) error {
	err := a.retry(ctx, func() error {
		tx, err := a.db.BeginTx(ctx, nil)
		if err != nil {
			return a.wrap(ctx, "begin transaction", err)
		}
		for _, stmt := range a.dialect.CreateTables(a.schema) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				_ = tx.Rollback()
				return a.wrap(ctx, "create tables", err)
			}
		}
		return a.wrap(ctx, "create tables: commit", tx.Commit())
	})
	if err != nil {
		return err
	}
	if err := a.addIssuedAt(ctx); err != nil {
		return err
	}
	if err := a.addSessionAttributes(ctx); err != nil {
		return err
	}
	return a.CheckSchema(ctx)
}

// CheckSchema checks that the tables have every column the adapter uses
// and, unless Options.NoForeignKeys is set, that sessions and keys have
// enforced foreign keys to users with ON DELETE CASCADE: without them the
// default mode would neither reject orphans nor cascade deletes. It returns
// a *SchemaError naming the first problem. Unless Options.Attributes is
// AttributesJSON, it also reads the user table's columns again, which
// tells the adapter where attributes are kept and what types their
// columns have, and in any case the session table's, for session
// attributes; run it after changing them.
func (a *Adapter) CheckSchema(ctx context.Context) error {
	for i, table := range []Table{a.schema.Users, a.schema.Sessions, a.schema.Keys} {
		if i == 0 && a.schema.Attributes != AttributesJSON {
			if _, err := a.inspectUsers(ctx); err != nil {
				return err
			}
			continue
		}
		err := a.retry(ctx, func() error {
			rows, err := a.db.QueryContext(ctx, a.st.probes[i])
			if err != nil {
				return err
			}
			return rows.Close()
		})
		if err != nil {
			if ctx.Err() != nil {
				return a.wrap(ctx, "check schema", err)
			}
			return &SchemaError{Table: table.String(), Reason: "missing, or without the adapter's columns", Err: err}
		}
	}
	if _, err := a.inspectSessions(ctx); err != nil {
		return err
	}
	if !a.schema.ForeignKeys {
		return nil
	}
	var ok bool
	err := a.retry(ctx, func() (err error) {
		ok, err = a.dialect.HasForeignKeys(ctx, a.db, a.schema)
		return err
	})
	if err != nil {
		return a.wrap(ctx, "check foreign keys", err)
	}
	if !ok {
		return &SchemaError{
			Table: a.schema.Sessions.String() + ", " + a.schema.Keys.String(),
			Reason: fmt.Sprintf("no foreign key user_id → %s(id) ON DELETE CASCADE, or foreign keys are off on this connection (SQLite: use sqlite.DSN); "+
				"create the tables with CreateTables, or set Options.NoForeignKeys", a.schema.Users),
		}
	}
	return nil
}
