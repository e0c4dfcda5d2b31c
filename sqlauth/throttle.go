package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/luciago/mongoauth/auth"
)

// ThrottleStore is an auth.ThrottleStore over the adapter's database, so
// that every instance of an application counts the same failed logins.
// Get it from Adapter.ThrottleStore and set it as auth.Config.ThrottleStore;
// CreateTables makes its table (Options.ThrottleTable):
//
//	id       the record's key (TEXT; VARBINARY(128) on MySQL, compared byte for byte)
//	until_ms the record's Until, Unix milliseconds (BIGINT)
//
// Each update is one statement, an upsert whose arithmetic runs in the
// database under the row's lock, so concurrent updates from any number of
// instances never lose one another:
//
//	INSERT INTO auth_throttle AS r (id, until_ms) VALUES (?, now + cost)
//	ON CONFLICT (id) DO UPDATE SET until_ms = GREATEST(r.until_ms, now) + cost
//	WHERE GREATEST(r.until_ms, now) + cost <= now + limit RETURNING until_ms
//
// on PostgreSQL and SQLite (max for GREATEST); no row back means refused,
// and a refused attempt reads the row once more for its Retry-After. On
// MySQL and MariaDB, INSERT ... ON DUPLICATE KEY UPDATE until_ms =
// LAST_INSERT_ID(IF(... <= now + limit, GREATEST(until_ms, now) + cost,
// until_ms)): the row count tells inserted (1), changed (2) and refused (0,
// or 1 under clientFoundRows), and LAST_INSERT_ID carries until_ms back,
// so a refused attempt costs that one statement too. Taking an attempt
// back is one UPDATE, which creates nothing.
//
// Rows whose until_ms has passed hold no debt and read as none; the store
// deletes them, using the index on until_ms, at most once a minute (by
// this machine's clock) after an update. Keep the clocks of the
// application's machines in sync.
type ThrottleStore struct {
	a                              *Adapter
	count, takeBack, read, cleanup string
	// lastCleanup is when the last cleanup started, in Unix nanoseconds.
	lastCleanup atomic.Int64
}

var _ auth.ThrottleStore = (*ThrottleStore)(nil)

// throttleCleanupEvery is how often the store deletes healed rows.
const throttleCleanupEvery = time.Minute

// ThrottleStore returns the store over Options.ThrottleTable. It fails when
// that option is empty.
func (a *Adapter) ThrottleStore() (*ThrottleStore, error) {
	t := a.schema.Throttle
	if t.Name == "" {
		return nil, errors.New("sqlauth: no throttle store: set Options.ThrottleTable (sqlauth.DefaultThrottleTable)")
	}
	table, greatest := t.Quoted(a.syntax), a.syntax.Greatest
	next := greatest + "(until_ms, ?) + ?"
	s := &ThrottleStore{a: a,
		read:    "SELECT until_ms FROM " + table + " WHERE id = ?",
		cleanup: "DELETE FROM " + table + " WHERE until_ms <= ?",
	}
	if a.syntax.OnDuplicateKey {
		s.count = "INSERT INTO " + table + " (id, until_ms) VALUES (?, ?) ON DUPLICATE KEY UPDATE until_ms = LAST_INSERT_ID(IF(" +
			next + " <= ?, " + next + ", until_ms))"
		s.takeBack = "UPDATE " + table + " SET until_ms = LAST_INSERT_ID(" + next + ") WHERE id = ?"
	} else {
		// The existing row's until_ms, not the proposed one's.
		existing := greatest + "(r.until_ms, ?) + ?"
		s.count = "INSERT INTO " + table + " AS r (id, until_ms) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET until_ms = " +
			existing + " WHERE " + existing + " <= ? RETURNING until_ms"
		s.takeBack = "UPDATE " + table + " SET until_ms = " + next + " WHERE id = ? RETURNING until_ms"
	}
	for _, q := range []*string{&s.count, &s.takeBack, &s.read, &s.cleanup} {
		*q = a.syntax.Bind(*q)
	}
	return s, nil
}

// Update implements auth.ThrottleStore.
func (s *ThrottleStore) Update(ctx context.Context, key string, u auth.ThrottleUpdate) (until time.Time, applied bool, err error) {
	if len(key) > 128 || strings.IndexByte(key, 0) >= 0 {
		return time.Time{}, false, &auth.InputError{Field: "throttle key", Reason: "longer than 128 bytes, or contains NUL"}
	}
	if err := auth.CheckID("throttle key", key); err != nil {
		return time.Time{}, false, err
	}
	now, cost := u.Now.UnixMilli(), u.Cost.Milliseconds()
	err = s.a.retry(ctx, func() (err error) {
		if cost > 0 {
			until, applied, err = s.countAttempt(ctx, key, now, cost, u.Now.Add(u.Limit).UnixMilli())
		} else {
			until, err = s.takeBackAttempt(ctx, key, now, cost)
			applied = true
		}
		return err
	})
	if err != nil {
		return time.Time{}, false, s.a.wrap(ctx, "update throttle record", err)
	}
	s.maybeCleanup(ctx, now)
	return until, applied, nil
}

func millis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// countAttempt runs the upsert; limitAt is now + limit.
func (s *ThrottleStore) countAttempt(ctx context.Context, key string, now, cost, limitAt int64) (time.Time, bool, error) {
	if s.a.syntax.OnDuplicateKey {
		res, err := s.a.db.ExecContext(ctx, s.count, key, now+cost, now, cost, limitAt, now, cost)
		if err != nil {
			return time.Time{}, false, err
		}
		rows, err := res.RowsAffected()
		if err != nil {
			return time.Time{}, false, err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return time.Time{}, false, err
		}
		switch {
		case rows == 1 && id == 0: // inserted: LAST_INSERT_ID was not evaluated
			return millis(now + cost), true, nil
		case rows == 2: // changed
			return millis(id), true, nil
		}
		return millis(id), false, nil // left as it was
	}
	var until int64
	err := s.a.db.QueryRowContext(ctx, s.count, key, now+cost, now, cost, now, cost, limitAt).Scan(&until)
	if err == nil {
		return millis(until), true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, err
	}
	// Refused: read what the limit was measured against, for the wait.
	switch err := s.a.db.QueryRowContext(ctx, s.read, key).Scan(&until); {
	case errors.Is(err, sql.ErrNoRows): // healed and cleaned up meanwhile
		return millis(limitAt - cost), false, nil
	case err != nil:
		return time.Time{}, false, err
	}
	return millis(until), false, nil
}

// takeBackAttempt runs the UPDATE that takes an attempt back.
func (s *ThrottleStore) takeBackAttempt(ctx context.Context, key string, now, cost int64) (time.Time, error) {
	none := millis(now + cost) // no row: no debt, and nothing to create
	if s.a.syntax.OnDuplicateKey {
		res, err := s.a.db.ExecContext(ctx, s.takeBack, now, cost, key)
		if err != nil {
			return time.Time{}, err
		}
		id, err := res.LastInsertId()
		if err != nil || id == 0 {
			return none, err
		}
		return millis(id), nil
	}
	var until int64
	err := s.a.db.QueryRowContext(ctx, s.takeBack, now, cost, key).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return none, nil
	}
	return millis(until), err
}

// maybeCleanup deletes the rows that hold no debt at now, if no cleanup
// has started for a minute. Its errors are not the update's: the next one
// tries again.
func (s *ThrottleStore) maybeCleanup(ctx context.Context, now int64) {
	last, wall := s.lastCleanup.Load(), time.Now().UnixNano()
	if wall-last < int64(throttleCleanupEvery) || !s.lastCleanup.CompareAndSwap(last, wall) {
		return
	}
	_, _ = s.DeleteHealed(ctx, millis(now))
}

// DeleteHealed deletes the records that hold no debt at now and returns
// how many it deleted. Updates do it at most once a minute; call it to do
// it at another time.
func (s *ThrottleStore) DeleteHealed(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.a.retry(ctx, func() error {
		res, err := s.a.db.ExecContext(ctx, s.cleanup, now.UnixMilli())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, s.a.wrap(ctx, "delete healed throttle records", err)
}
