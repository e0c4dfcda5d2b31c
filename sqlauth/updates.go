package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/luciago/mongoauth/auth"
)

// The writes that change a row in place on condition: the optional
// interfaces auth.KeyPasswordReplacer, auth.SessionUpdater and
// auth.ExpiredSessionDeleter. Each is one statement whose WHERE clause
// carries the condition, judged by the count of affected rows.

var (
	_ auth.KeyPasswordReplacer   = (*Adapter)(nil)
	_ auth.SessionUpdater        = (*Adapter)(nil)
	_ auth.ExpiredSessionDeleter = (*Adapter)(nil)
)

// ReplaceKeyPassword implements auth.KeyPasswordReplacer with one UPDATE
// ... WHERE id = ? AND hashed_password = ?. Each database evaluates an
// UPDATE's condition on the row as it is when the row is locked for the
// write (PostgreSQL re-checks it after waiting for a concurrent writer,
// MySQL's UPDATE reads the latest committed row, SQLite has one writer at
// a time), so of concurrent callers only one can match, and a password
// change committed first makes the condition fail. The hash is compared
// byte for byte (see Syntax.ExactText).
//
// MySQL counts a row whose values do not change as unaffected, so when
// oldHash equals newHash, where there is nothing to write, one SELECT
// answers instead.
func (a *Adapter) ReplaceKeyPassword(ctx context.Context, keyID, oldHash, newHash string) error {
	if err := auth.CheckID("key id", keyID); err != nil {
		return err
	}
	if oldHash == "" || newHash == "" {
		return &auth.InputError{Field: "hashed password", Reason: "empty"}
	}
	if err := checkPassword(&newHash); err != nil {
		return err
	}
	if oldHash == newHash {
		return a.exists(ctx, "get key", a.st.keyWithPassword, keyID, oldHash)
	}
	n, err := a.execCount(ctx, "replace key password", a.st.replacePassword, newHash, keyID, oldHash)
	if err == nil && n == 0 {
		return auth.ErrNotFound
	}
	return err
}

// UpdateSession implements auth.SessionUpdater with one UPDATE by id, of
// the expiry times given and, with attribute columns, the named columns.
// When it affects no row, because the session is missing or, on MySQL,
// because its values were already the ones given, one SELECT tells which.
// With attributes in the JSON column, the stored ones are read under a row
// lock and merged with the given ones in the same transaction (see
// updateSessionJSON); a table without room for attributes refuses them,
// changing nothing.
func (a *Adapter) UpdateSession(ctx context.Context, sessionID string, update auth.SessionUpdate) error {
	if err := auth.CheckID("session id", sessionID); err != nil {
		return err
	}
	attrs, err := plainSessionAttributes(update.Attributes)
	if err != nil {
		return err
	}
	var set []string
	var args []any
	if update.ActiveExpires != 0 {
		set, args = append(set, "active_expires = ?"), append(args, update.ActiveExpires)
	}
	if update.IdleExpires != 0 {
		set, args = append(set, "idle_expires = ?"), append(args, update.IdleExpires)
	}
	if update.IssuedAt != 0 {
		set, args = append(set, issuedAtColumn+" = ?"), append(args, update.IssuedAt)
	}
	if len(attrs) > 0 {
		t, err := a.sessions(ctx)
		if err != nil {
			return err
		}
		if err := t.refusal(attrs); err != nil {
			return err
		}
		if t.json {
			return a.updateSessionJSON(ctx, t, sessionID, set, args, attrs)
		}
		names, values, err := a.columnValues(&t.attributeColumns, attrs, false)
		if err != nil {
			return err
		}
		for _, name := range names {
			set = append(set, name+" = ?")
		}
		args = append(args, values...)
	}
	if len(set) > 0 {
		query := a.syntax.Bind("UPDATE " + a.schema.Sessions.Quoted(a.syntax) + " SET " + strings.Join(set, ", ") + " WHERE id = ?")
		n, err := a.execCount(ctx, "update session", query, append(args, sessionID)...)
		if err != nil || n > 0 {
			return err
		}
	}
	return a.exists(ctx, "get session", a.st.sessionExists, sessionID)
}

// exists runs a SELECT 1 query, bound already: nil if it returns a row,
// auth.ErrNotFound if not.
func (a *Adapter) exists(ctx context.Context, op, query string, args ...any) error {
	return a.retry(ctx, func() error {
		var one int
		err := a.db.QueryRowContext(ctx, query, args...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrNotFound
		}
		return a.wrap(ctx, op, err)
	})
}

// DeleteExpiredSessions implements auth.ExpiredSessionDeleter with one
// DELETE.
func (a *Adapter) DeleteExpiredSessions(ctx context.Context, userID string, nowMillis int64) error {
	if err := auth.CheckID("user id", userID); err != nil {
		return err
	}
	return a.exec(ctx, "delete expired sessions", a.st.deleteExpiredSessions, userID, nowMillis)
}
