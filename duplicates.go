package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// Server error codes for a unique index violation: on insert, on update,
// and in a capped collection.
var duplicateKeyCodes = []int{11000, 11001, 12582}

func isDuplicateKey(err error) bool { return hasCode(err, duplicateKeyCodes...) }

// keyPattern returns the key pattern of the unique index behind a
// duplicate-key error, such as {"email": 1}. MongoDB 4.2 and later put it
// in the write error (insert, update) or in the command's reply
// (findAndModify), next to the duplicate value (keyValue, deliberately not
// read). Older servers and some compatible ones (FerretDB v1) send only a
// message; keyPattern then returns false, and the message is not parsed.
func keyPattern(err error) (bson.Raw, bool) {
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			if slices.Contains(duplicateKeyCodes, e.Code) {
				if p, ok := e.Raw.Lookup("keyPattern").DocumentOK(); ok {
					return p, true
				}
			}
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && ce.Raw != nil {
		if p, ok := ce.Raw.Lookup("keyPattern").DocumentOK(); ok {
			return p, true
		}
	}
	return nil, false
}

// patternFields lists the fields of a key pattern, or nil when it cannot
// be read.
func patternFields(pattern bson.Raw) []string {
	elems, err := pattern.Elements()
	if err != nil || len(elems) == 0 {
		return nil
	}
	fields := make([]string, 0, len(elems))
	for _, e := range elems {
		key, err := e.KeyErr()
		if err != nil {
			return nil
		}
		fields = append(fields, key)
	}
	return fields
}

// insertDuplicate says what a duplicate-key error from inserting the
// document with _id id into coll means: duplicateID (the id is taken) when
// the clash is on _id, an *auth.DuplicateValueError when it is on another
// unique index, one the application added.
//
// When the server does not name the index (no keyPattern), the document's
// id is looked up: if a document with it exists, the id was taken. If not,
// the document may have been deleted since the insert (by another
// request), so the value counts as refused by another index only if the
// collection has one; with _id its only unique index, the id was taken.
// The reads run outside any session the context carries, since a failed
// write may have aborted that session's transaction, and read the latest
// committed data. (With another unique index, a document deleted between
// the insert and the lookup still makes an id clash read as an unnamed
// duplicate value; the write failed either way.)
func insertDuplicate(ctx context.Context, coll *mongo.Collection, id string, err, duplicateID error) error {
	if pattern, ok := keyPattern(err); ok {
		fields := patternFields(pattern)
		if len(fields) == 1 && fields[0] == fieldID {
			return duplicateID
		}
		return &auth.DuplicateValueError{Fields: fields, Err: err}
	}
	ctx = isolate(ctx)
	undecided := func(lookup error) error {
		return fmt.Errorf("mongoauth: insert into %s: %w; telling which unique index refused it failed: %w", coll.Name(), err, lookup)
	}
	found := coll.FindOne(ctx, byID(id), options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}})).Err()
	switch {
	case found == nil:
		return duplicateID
	case !errors.Is(found, mongo.ErrNoDocuments):
		return undecided(found)
	}
	other, listErr := hasUniqueIndexBesidesID(ctx, coll)
	switch {
	case listErr != nil:
		return undecided(listErr)
	case other:
		return &auth.DuplicateValueError{Err: err}
	}
	return duplicateID
}

// hasUniqueIndexBesidesID reports whether coll has a unique index other
// than the one on _id.
func hasUniqueIndexBesidesID(ctx context.Context, coll *mongo.Collection) (bool, error) {
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(specs, func(s mongo.IndexSpecification) bool {
		return s.Unique != nil && *s.Unique && s.Name != "_id_"
	}), nil
}

// updateDuplicate is insertDuplicate for a write that does not change _id:
// the clash is always on another unique index.
func updateDuplicate(err error) error {
	pattern, _ := keyPattern(err)
	return &auth.DuplicateValueError{Fields: patternFields(pattern), Err: err}
}
