package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// Filters are built only from ids that passed auth.CheckID and are always
// values of _id or user_id, never field names or operators: a string value
// in a filter is matched literally.
func byID(id string) bson.D         { return bson.D{{Key: fieldID, Value: id}} }
func byUserID(userID string) bson.D { return bson.D{{Key: fieldUserID, Value: userID}} }

// nonPrimaryKey matches the key only if primary_key is false, so that the
// key deletions of the contract can never remove a user's primary key.
func nonPrimaryKey(keyID string) bson.D {
	return bson.D{{Key: fieldID, Value: keyID}, {Key: fieldPrimaryKey, Value: false}}
}

// findByID returns the raw document, or auth.ErrNotFound.
func findByID(ctx context.Context, coll *mongo.Collection, id string) (bson.Raw, error) {
	doc, err := coll.FindOne(ctx, byID(id)).Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, auth.ErrNotFound
	}
	return doc, wrap("find in "+coll.Name(), err)
}

// findAll decodes every document matching filter.
func findAll[T any](ctx context.Context, coll *mongo.Collection, filter bson.D, decode func(bson.Raw) (T, error)) ([]T, error) {
	cur, err := coll.Find(ctx, filter)
	if err != nil {
		return nil, wrap("find in "+coll.Name(), err)
	}
	defer closeCursor(ctx, cur)
	out := []T{}
	for cur.Next(ctx) {
		v, err := decode(cur.Current)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, wrap("find in "+coll.Name(), cur.Err())
}

// closeCursor closes a cursor the read may have left open (an error
// mid-way, the caller's context ended), sending killCursors even after ctx
// has ended, but for at most a second: a server gone away must not hold
// the call.
func closeCursor(ctx context.Context, cur *mongo.Cursor) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	_ = cur.Close(c)
}

// findAndSet applies $set to one document and returns it as updated, or
// auth.ErrNotFound, or an *auth.DuplicateValueError when a unique index the
// application added refuses the new values.
func findAndSet(ctx context.Context, coll *mongo.Collection, id string, set bson.D) (bson.Raw, error) {
	update := bson.D{{Key: "$set", Value: set}}
	after := options.FindOneAndUpdate().SetReturnDocument(options.After)
	doc, err := coll.FindOneAndUpdate(ctx, byID(id), update, after).Raw()
	switch {
	case errors.Is(err, mongo.ErrNoDocuments):
		return nil, auth.ErrNotFound
	case isDuplicateKey(err):
		return nil, updateDuplicate(ctx, coll, id, set, err)
	}
	return doc, wrap("update in "+coll.Name(), err)
}

// insert inserts doc, whose first field is its string _id. A duplicate-key
// error becomes duplicateID when the id is taken, an
// *auth.DuplicateValueError when another unique index refused the document
// (see insertDuplicate).
func insert(ctx context.Context, coll *mongo.Collection, doc bson.D, duplicateID error) error {
	_, err := coll.InsertOne(ctx, doc)
	if isDuplicateKey(err) {
		return insertDuplicate(ctx, coll, doc, err, duplicateID)
	}
	return wrap("insert into "+coll.Name(), err)
}

// notFoundAs turns auth.ErrNotFound into the error an update reports for a
// missing record.
func notFoundAs(err, missing error) error {
	if errors.Is(err, auth.ErrNotFound) {
		return missing
	}
	return err
}

// wrap prefixes a driver error with the package and the operation, keeping
// it inspectable with errors.As (the driver's error labels, which
// WithTransaction relies on, stay visible).
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("mongoauth: %s: %w", op, err)
}
