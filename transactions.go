package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"time"
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

// undoTimeout bounds compensation, which runs even when the caller's
// context has expired: leaving half a write behind is worse than running a
// little past a deadline.
const undoTimeout = 10 * time.Second

func (u *undoLog) run(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
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
// transactions (the driver's WithTransaction retries transient errors and
// unknown commit results), and through withUndo otherwise. fn is the same
// code either way; only this wrapper differs.
func (a *Adapter) atomically(ctx context.Context, fn func(context.Context, *undoLog) error) error {
	if !a.transactions {
		return withUndo(ctx, fn)
	}
	sess, err := a.db.Client().StartSession()
	if err != nil {
		return wrap("start session", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		return nil, fn(ctx, nil)
	}, transactionOptions(a.writeConcern))
	return err
}
