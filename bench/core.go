package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// The core-level cases run the auth core's own calls over the measured
// adapter, so the table shows what an application pays, conversions of
// typed attributes and expiry logic included. Passwords use the core's
// InsecureFastHasher: hashing has cases of its own (hashing.go).

type profile struct {
	Username string `auth:"username"`
}

const corePassword = "correct horse battery staple"

// coreBuild builds a case's steps over a core on the measured adapter.
type coreBuild func(ctx context.Context, core *auth.Auth[profile], d *database, userID string) (*Steps, error)

// coreCase prepares a database with one user (and the given number of
// sessions) and builds steps over a core on the measured adapter. A
// failure while building surfaces as the first iteration's error.
func coreCase(sessions int, build coreBuild) func(context.Context, *Env) (*Steps, error) {
	return coreCaseWith(auth.Config{}, sessions, build)
}

// coreCaseWith is coreCase with a core made from config (its hasher is
// always the InsecureFastHasher).
func coreCaseWith(config auth.Config, sessions int, build coreBuild) func(context.Context, *Env) (*Steps, error) {
	return coreCaseFor(func(*database) (auth.Config, error) { return config, nil }, sessions, build)
}

// coreCaseFor is coreCaseWith with a config made for the case's database.
func coreCaseFor(configFor func(d *database) (auth.Config, error), sessions int, build coreBuild) func(context.Context, *Env) (*Steps, error) {
	return func(ctx context.Context, env *Env) (*Steps, error) {
		return withDatabase(ctx, env, sessions, func(d *database, userID string) *Steps {
			config, err := configFor(d)
			config.PasswordHasher = auth.InsecureFastHasher()
			var core *auth.Auth[profile]
			if err == nil {
				core, err = auth.New[profile](d.measured, config)
			}
			var steps *Steps
			if err == nil {
				steps, err = build(ctx, core, d, userID)
			}
			if err != nil {
				return &Steps{Op: func(context.Context, int) error { return err }}
			}
			return steps
		})
	}
}

// coreSession creates the session a core case validates, through the core
// (so stored as the core stores it: under the token's hash, or the token
// with LuciaV1). Building a case is untimed and uncounted.
func coreSession(ctx context.Context, core *auth.Auth[profile], userID string) (auth.Session, error) {
	return core.CreateSession(ctx, userID)
}

// coreValidateSessionUser is the per-request cost: ValidateSessionUser of
// an active session.
var coreValidateSessionUser = coreCaseWith(auth.Config{}, 0, validateSessionUser)

// coreValidateSessionUserLucia is coreValidateSessionUser with session ids
// stored unhashed (LuciaV1): the difference is what hashing costs.
var coreValidateSessionUserLucia = coreCaseWith(auth.Config{LuciaV1: true}, 0, validateSessionUser)

func validateSessionUser(ctx context.Context, core *auth.Auth[profile], _ *database, userID string) (*Steps, error) {
	session, err := coreSession(ctx, core, userID)
	if err != nil {
		return nil, err
	}
	token := session.Token
	return &Steps{Op: func(ctx context.Context, _ int) error {
		s, u, err := core.ValidateSessionUser(ctx, token)
		if err == nil && s.State != auth.SessionActive {
			err = errors.New("bench: session not active")
		}
		return expect(err, u.ID, userID)
	}}, nil
}

// coreValidateSession is ValidateSession of an active session: it reads
// the session's user too (an orphan is refused), so it costs what
// ValidateSessionUser does.
var coreValidateSession = coreCase(0, func(ctx context.Context, core *auth.Auth[profile], _ *database, userID string) (*Steps, error) {
	session, err := coreSession(ctx, core, userID)
	if err != nil {
		return nil, err
	}
	token := session.Token
	return &Steps{Op: func(ctx context.Context, _ int) error {
		s, err := core.ValidateSession(ctx, token)
		if err == nil && s.State != auth.SessionActive {
			err = errors.New("bench: session not active")
		}
		return expect(err, s.UserID, userID)
	}}, nil
})

// coreUseKey is a password login's key check: UseKey with the right
// password (the seeded key gets a fast-hasher hash of corePassword).
var coreUseKey = coreCase(0, useKeyWith(corePassword, nil))

// useKeyWith builds UseKey of the seeded key with password, which must
// fail with want (nil: succeed).
func useKeyWith(password string, want error) coreBuild {
	return func(ctx context.Context, core *auth.Auth[profile], d *database, userID string) (*Steps, error) {
		hash, err := auth.InsecureFastHasher().Hash(ctx, corePassword)
		if err != nil {
			return nil, err
		}
		keys := d.setup.Collection(mongoauth.DefaultKeyCollection)
		if _, err := keys.UpdateOne(ctx, bson.D{{Key: "_id", Value: keyID(userID)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "hashed_password", Value: hash}}}}); err != nil {
			return nil, err
		}
		useKey := func(ctx context.Context, _ int) error {
			k, err := core.UseKey(ctx, "username", "name"+userID, password) // keyID's parts
			switch {
			case want == nil:
				return expect(err, k.UserID, userID)
			case !errors.Is(err, want):
				return fmt.Errorf("bench: UseKey: %w, want %w", err, want)
			}
			return nil
		}
		// The core's first password login measures the hash formats for
		// the failure floor (Lucia's scrypt among them, tens of MiB): once
		// per process, so it is made here rather than counted in the first
		// round. It also spends the free failures of a throttle case.
		if err := useKey(ctx, 0); err != nil && !errors.Is(err, auth.ErrThrottled) {
			return nil, err
		}
		return &Steps{Op: useKey}, nil
	}
}

// coreCreateUser is sign-up: CreateUser with a primary password key.
var coreCreateUser = coreCase(0, func(_ context.Context, core *auth.Auth[profile], d *database, _ string) (*Steps, error) {
	var mu sync.Mutex
	created := map[int]string{}
	return &Steps{
		Op: func(ctx context.Context, i int) error {
			name := makeID("new", i, userIDLength)
			u, err := core.CreateUser(ctx, profile{Username: name}, &auth.KeyParams{ProviderID: "username", ProviderUserID: name, Password: corePassword})
			if err == nil {
				mu.Lock()
				created[i] = u.ID
				mu.Unlock()
			}
			return err
		},
		After: func(ctx context.Context, i int) error {
			mu.Lock()
			id := created[i]
			delete(created, i)
			mu.Unlock()
			if _, err := d.setup.Collection(mongoauth.DefaultUserCollection).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
				return err
			}
			_, err := d.setup.Collection(mongoauth.DefaultKeyCollection).DeleteMany(ctx, bson.D{{Key: "user_id", Value: id}})
			return err
		},
	}, nil
})
