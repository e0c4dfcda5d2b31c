package bench

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// The cases of session attributes: what a "your devices" page costs the
// requests that create and validate sessions. The attributes are the
// example app's: browser, operating system, created and last seen.

// lastSeenInterval is the cases' Config.LastSeenInterval.
const lastSeenInterval = time.Hour

// deviceAttributes are a session's attributes, last seen at seen.
func deviceAttributes(seen time.Time) map[string]any {
	return map[string]any{
		"browser":    "Firefox",
		"os":         "Linux",
		"created_at": seen.UTC().Truncate(time.Second),
		"last_seen":  seen.UTC().Truncate(time.Second),
	}
}

// withDeviceAttributes sets the attributes of the session stored under
// sessionID (through the unmonitored client).
func withDeviceAttributes(ctx context.Context, d *database, sessionID string, seen time.Time) error {
	set := bson.D{}
	for name, v := range deviceAttributes(seen) {
		set = append(set, bson.E{Key: name, Value: v})
	}
	_, err := d.setup.Collection(mongoauth.DefaultSessionCollection).UpdateOne(ctx,
		bson.D{{Key: "_id", Value: sessionID}}, bson.D{{Key: "$set", Value: set}})
	return err
}

// createSessionWithAttributes is create-session with the attributes a
// login stores.
func createSessionWithAttributes(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
		active, idle := expiries()
		attrs := deviceAttributes(time.Now())
		return &Steps{
			Op: func(ctx context.Context, i int) error {
				return d.measured.SetSession(ctx, auth.SessionRecord{
					ID: makeID("new", i, sessionIDLength), UserID: userID, ActiveExpires: active, IdleExpires: idle, Attributes: attrs,
				})
			},
			After: deleteNewSession(d),
		}
	})
}

// validateWithUserAttributes is validate-with-user of a session that has
// attributes.
func validateWithUserAttributes(ctx context.Context, env *Env) (*Steps, error) {
	return withDatabase(ctx, env, 1, func(d *database, userID string) *Steps {
		if err := withDeviceAttributes(ctx, d, firstSession(userID), time.Now()); err != nil {
			return &Steps{Op: func(context.Context, int) error { return err }}
		}
		id := firstSession(userID)
		return &Steps{Op: func(ctx context.Context, _ int) error {
			s, u, err := d.measured.GetSessionAndUser(ctx, id)
			if err == nil && len(s.Attributes) != 4 {
				return errors.New("bench: the session's attributes were not read")
			}
			return expect(err, u.ID, userID)
		}}
	})
}

// coreValidateLastSeen is the core's ValidateSessionUser with a last-seen
// attribute: not due (last seen a moment ago), or due (set an interval
// back before every iteration, untimed), when the validation writes it.
func coreValidateLastSeen(due bool) func(context.Context, *Env) (*Steps, error) {
	config := auth.Config{LastSeenAttribute: "last_seen", LastSeenInterval: lastSeenInterval}
	return coreCaseWith(config, 0, func(ctx context.Context, core *auth.Auth[profile], d *database, userID string) (*Steps, error) {
		session, err := coreSession(ctx, core, userID)
		if err != nil {
			return nil, err
		}
		if err := withDeviceAttributes(ctx, d, session.ID, time.Now()); err != nil {
			return nil, err
		}
		token := session.Token
		steps := &Steps{Op: func(ctx context.Context, _ int) error {
			s, u, err := core.ValidateSessionUser(ctx, token)
			if err == nil && s.Attributes["browser"] != "Firefox" {
				err = errors.New("bench: the session's attributes were not read")
			}
			return expect(err, u.ID, userID)
		}}
		if due {
			steps.Before = func(ctx context.Context, _ int) error {
				return withDeviceAttributes(ctx, d, session.ID, time.Now().Add(-lastSeenInterval))
			}
		}
		return steps, nil
	})
}
