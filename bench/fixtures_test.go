package bench

import (
	"regexp"
	"testing"
)

// The core rejects ids of other lengths without asking the database, so a
// core-level case would measure nothing with ids of the wrong shape.
func TestIDsHaveLuciaShapes(t *testing.T) {
	lucia := regexp.MustCompile(`^[a-z0-9]+$`)
	userID := makeID("user", 0, userIDLength)
	for _, c := range []struct {
		id     string
		length int
	}{
		{userID, userIDLength},
		{makeID("gone", 123, userIDLength), userIDLength},
		{firstSession(userID), sessionIDLength},
		{makeID("new", 99_999, sessionIDLength), sessionIDLength},
		{makeID("other", 99_999, sessionIDLength), sessionIDLength},
	} {
		if len(c.id) != c.length || !lucia.MatchString(c.id) {
			t.Errorf("id %q: want %d characters of [a-z0-9]", c.id, c.length)
		}
	}
}
