package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
)

// undoLog collects compensating steps for writes that already succeeded, to
// run when a later step of the same call fails. In a transaction there is
// nothing to compensate (the abort undoes everything), so the log is nil
// and push does nothing.
type undoLog struct {
	steps []func(context.Context) error
}

func (u *undoLog) push(step func(context.Context) error) {
	if u != nil {
		u.steps = append(u.steps, step)
	}
}

// finishGrace is how long work that must not stop halfway may go on after
// the caller's context has ended: compensation (leaving half a write
// behind is worse than running a little past a deadline) and the cascade
// after a user's deletion. It is the most any call runs past its deadline.
const finishGrace = 10 * time.Second

// outlive returns a context that carries ctx's values and ends finishGrace
// after ctx does (or, without a deadline, after it is cancelled). Work
// that must finish runs under it.
func outlive(ctx context.Context) (context.Context, context.CancelFunc) {
	detached := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(detached, deadline.Add(finishGrace))
	}
	c, cancel := context.WithCancel(detached)
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(finishGrace, cancel) })
	return c, func() { stop(); cancel() }
}

func (u *undoLog) run(ctx context.Context) error {
	ctx, cancel := outlive(ctx)
	defer cancel()
	var errs []error
	for i := len(u.steps) - 1; i >= 0; i-- {
		if err := u.steps[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("mongoauth: undo incomplete: %w", errors.Join(errs...))
	}
	return nil
}

// withUndo runs fn's steps one by one; when fn fails, the compensating steps
// it pushed run in reverse order.
func withUndo(ctx context.Context, fn func(context.Context, *undoLog) error) error {
	var undo undoLog
	err := fn(ctx, &undo)
	if err != nil {
		if uerr := undo.run(ctx); uerr != nil {
			return errors.Join(err, uerr)
		}
	}
	return err
}

// atomically runs fn as a single transaction when the adapter uses
// transactions (see inTransaction), and through withUndo otherwise. fn is
// the same code either way; only this wrapper differs.
func (a *Adapter) atomically(ctx context.Context, fn func(context.Context, *undoLog) error) error {
	if !a.transactions {
		return withUndo(ctx, fn)
	}
	return a.inTransaction(ctx, func(ctx context.Context) error { return fn(ctx, nil) })
}

// ErrUnknownCommitResult is matched (errors.Is) by *UnknownCommitResultError.
var ErrUnknownCommitResult = errors.New("mongoauth: transaction commit result unknown")

// UnknownCommitResultError is returned when a transaction's commit was sent
// but whether it took effect is not known when the call must return: the
// caller's context ended first (errors.Is matches context.DeadlineExceeded
// or context.Canceled then), the client's timeoutMS or the server's
// maxTimeMS cut the commit short, or the driver kept reporting an unknown
// result (an election, a write-concern timeout) for as long as the driver's
// WithTransaction would retry. The
// writes may have been applied or not; a read tells which (reads go to
// the primary). Every adapter write can be retried: a repeated DeleteUser
// does nothing more, a repeated SetUser reports the user id as taken if
// the first one took effect.
type UnknownCommitResultError struct {
	Err error
}

func (e *UnknownCommitResultError) Error() string {
	return "mongoauth: transaction commit result unknown: its writes may or may not have been applied (read to find out): " + e.Err.Error()
}

func (e *UnknownCommitResultError) Unwrap() error { return e.Err }

func (e *UnknownCommitResultError) Is(target error) bool { return target == ErrUnknownCommitResult }

// Retries of a transaction and of its commit: while the caller's context
// lives, for at most transactionRetryWindow (the driver's WithTransaction
// limit), with backoff between attempts as the driver's (5 ms, growing by
// half up to 500 ms, with jitter).
const (
	transactionRetryWindow = 120 * time.Second
	retryBackoffInitial    = 5 * time.Millisecond
	retryBackoffMax        = 500 * time.Millisecond
	// abortGrace bounds the abort of a transaction whose statement failed
	// (the server would abort it at its lifetime limit anyway, holding its
	// writes' locks until then).
	abortGrace = time.Second
)

// Error labels the driver puts on transaction errors.
const (
	labelTransient     = "TransientTransactionError"
	labelUnknownCommit = "UnknownTransactionCommitResult"
)

// inTransaction runs fn in a transaction and commits it, within ctx. It
// does what the driver's WithTransaction does (retry the whole transaction
// on TransientTransactionError, the commit on
// UnknownTransactionCommitResult), but WithTransaction commits with a
// context of its own, ignoring the caller's deadline, and keeps retrying a
// commit for up to 120 s. Here every commit is sent with ctx, so that the
// driver bounds it by ctx's deadline (and sends the time left as
// maxTimeMS), and when ctx ends while the outcome is unknown the call
// returns an *UnknownCommitResultError.
//
// After a commit has been sent, nothing aborts the transaction: an abort
// could race the commit on the server (see WithTransaction's source).
// The session ends without sending one.
func (a *Adapter) inTransaction(ctx context.Context, fn func(context.Context) error) error {
	sess, err := a.db.Client().StartSession()
	if err != nil {
		return wrap("start session", err)
	}
	defer endWithoutAbort(ctx, sess)
	start := time.Now()
	backoff := time.Duration(0)
	// retry waits before another attempt; false when there is no time left.
	retry := func() bool {
		backoff = min(max(retryBackoffInitial, backoff*3/2), retryBackoffMax)
		wait := backoff/2 + rand.N(backoff/2+1)
		if time.Since(start)+wait > transactionRetryWindow {
			return false
		}
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		if err := sess.StartTransaction(transactionOptions(a.writeConcern)); err != nil {
			return wrap("start transaction", err)
		}
		if err := fn(mongo.NewSessionContext(ctx, sess)); err != nil {
			abort(ctx, sess)
			if hasLabel(err, labelTransient) && ctx.Err() == nil && retry() {
				continue
			}
			return err
		}
		if err := ctx.Err(); err != nil { // nothing sent yet: the abort is safe
			abort(ctx, sess)
			return err
		}
		err := a.commit(ctx, sess, retry)
		if hasLabel(err, labelTransient) && !hasLabel(err, labelUnknownCommit) && ctx.Err() == nil && retry() {
			continue // the commit failed for sure: run the transaction again
		}
		return err
	}
}

// commit commits the session's transaction, sending the commit again
// while its result is unknown and retry allows.
func (a *Adapter) commit(ctx context.Context, sess *mongo.Session, retry func() bool) error {
	for {
		err := sess.CommitTransaction(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil || mongo.IsTimeout(err):
			// The deadline passed, or the client's timeoutMS, or the
			// server's share of either (maxTimeMS): the outcome is open, and
			// another commit would only wait as long again.
			return &UnknownCommitResultError{Err: err}
		case hasLabel(err, labelUnknownCommit):
			if !retry() {
				if ctx.Err() != nil {
					err = errors.Join(err, ctx.Err())
				}
				return &UnknownCommitResultError{Err: err}
			}
		default:
			return wrap("commit transaction", err)
		}
	}
}

// abort ends a transaction none of whose commits was sent, bounded by
// abortGrace past ctx.
func abort(ctx context.Context, sess *mongo.Session) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortGrace)
	defer cancel()
	_ = sess.AbortTransaction(c)
}

// endWithoutAbort ends the session. The driver's EndSession aborts a
// transaction it believes in progress, which it does after a commit that
// timed out; given a context that is already done, that abort is never
// sent.
func endWithoutAbort(ctx context.Context, sess *mongo.Session) {
	done, cancel := context.WithCancel(context.WithoutCancel(ctx))
	cancel()
	sess.EndSession(done)
}

// hasLabel reports whether err carries the driver's error label.
func hasLabel(err error, label string) bool {
	var le mongo.LabeledError
	return errors.As(err, &le) && le.HasErrorLabel(label)
}
