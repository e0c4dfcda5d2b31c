package mongoauth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/luciago/mongoauth/auth"
)

// TestSessionWithoutAttributesCostsNothingMore: telling that a session
// document has no attributes allocates nothing, so that every request's
// read of a session without them costs what it did before.
func TestSessionWithoutAttributesCostsNothingMore(t *testing.T) {
	plain, err := bson.Marshal(bson.D{
		{Key: "_id", Value: "s"}, {Key: "user_id", Value: "u"}, {Key: "active_expires", Value: int64(1)},
		{Key: "idle_expires", Value: float64(2)}, {Key: "expires_at", Value: bson.DateTime(2)}, {Key: "__v", Value: int32(0)},
	})
	assert.NoError(t, err)
	withAttrs, err := bson.Marshal(sessionDocument(auth.SessionRecord{ID: "s", UserID: "u", Attributes: map[string]any{"browser": "Firefox"}}))
	assert.NoError(t, err)
	assert.False(t, hasOtherFields(plain, sessionFields))
	assert.True(t, hasOtherFields(withAttrs, sessionFields))
	assert.Zero(t, testing.AllocsPerRun(100, func() { hasOtherFields(plain, sessionFields) }))
	assert.Zero(t, testing.AllocsPerRun(100, func() { hasOtherFields(withAttrs, sessionFields) }))
}
