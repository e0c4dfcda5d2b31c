package sqlauth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Retry policy. Retryable errors (deadlocks, serialization failures) mean
// the database rolled the attempt back, so running it again is safe; the
// pause doubles from retryPause up to maxRetryPause, randomised so that the
// transactions that collided do not collide again. Busy errors mean a lock
// was not free yet; they are retried the same way for up to maxBusyWait.
const (
	maxAttempts   = 10
	maxBusyWait   = 10 * time.Second
	retryPause    = 2 * time.Millisecond
	maxRetryPause = 100 * time.Millisecond
)

// retry runs attempt until it succeeds, fails with an error that is neither
// Retryable nor Busy, exhausts the policy above, or ctx is done.
func (a *Adapter) retry(ctx context.Context, attempt func() error) error {
	pause := retryPause
	busyUntil := time.Now().Add(maxBusyWait)
	for n := 1; ; n++ {
		err := attempt()
		if err == nil {
			return nil
		}
		switch a.dialect.Classify(err) {
		case Retryable:
			if n >= maxAttempts {
				return err
			}
		case Busy:
			if time.Now().After(busyUntil) {
				return err
			}
		default:
			return err
		}
		timer := time.NewTimer(pause/2 + rand.N(pause))
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("sqlauth: %w while waiting to retry: %w", ctx.Err(), err)
		case <-timer.C:
		}
		pause = min(2*pause, maxRetryPause)
	}
}

// inTx runs fn in a transaction with the dialect's options, committing when
// fn succeeds and rolling back when it fails; Retryable failures run the
// whole transaction again.
func (a *Adapter) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return a.retry(ctx, func() error {
		tx, err := a.db.BeginTx(ctx, a.syntax.TxOptions)
		if err != nil {
			return a.wrap(ctx, "begin transaction", err)
		}
		if err := fn(tx); err != nil {
			// fn's error is the one to report; a rollback that fails leaves
			// nothing committed either (the server ends the transaction when
			// the connection drops).
			_ = tx.Rollback()
			return err
		}
		return a.wrap(ctx, "commit", tx.Commit())
	})
}

// wrap prefixes a driver error with the package and the operation, keeping
// it inspectable with errors.As. When ctx is done, the result also matches
// ctx.Err(), whatever error the driver made of the interruption.
func (a *Adapter) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("sqlauth: %s: %w: %w", op, cerr, err)
	}
	return fmt.Errorf("sqlauth: %s: %w", op, err)
}
