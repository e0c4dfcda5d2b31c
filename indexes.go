package mongoauth

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// UserIDIndex is the name of the index on user_id that EnsureIndexes keeps
// on the sessions and keys collections. It is the name MongoDB itself
// would give the index, so one made by hand or by Lucia's mongoose adapter is
// recognized.
const UserIDIndex = "user_id_1"

// IndexReport says what EnsureIndexes found and did, per collection, as
// "collection.index" strings.
type IndexReport struct {
	Created  []string
	Existing []string
}

// IndexConflictError reports an existing index that stands in the way of a
// required one: same name with a different definition, or a unique index on
// user_id (which would allow one session per user). Nothing is changed;
// drop or rename the index by hand.
type IndexConflictError struct {
	Collection string
	Index      string
	Reason     string
}

func (e *IndexConflictError) Error() string {
	return fmt.Sprintf("mongoauth: index %s.%s conflicts: %s", e.Collection, e.Index, e.Reason)
}

// EnsureIndexes creates the indexes the adapter's queries need (user_id on
// sessions and keys) if they are missing. It is idempotent and safe to call
// at every start; it is never called implicitly. An equivalent index under
// another name counts as existing.
func (a *Adapter) EnsureIndexes(ctx context.Context) (IndexReport, error) {
	var report IndexReport
	for _, coll := range []*mongo.Collection{a.sessions, a.keys} {
		created, err := ensureIndex(ctx, coll, UserIDIndex, bson.D{{Key: fieldUserID, Value: 1}})
		if err != nil {
			return report, err
		}
		name := coll.Name() + "." + UserIDIndex
		if created {
			report.Created = append(report.Created, name)
		} else {
			report.Existing = append(report.Existing, name)
		}
	}
	return report, nil
}

// indexInfo is the part of a listIndexes entry that matters here.
type indexInfo struct {
	Name   string   `bson:"name"`
	Key    bson.Raw `bson:"key"`
	Unique bool     `bson:"unique"`
	Sparse bool     `bson:"sparse"`
	// Partial indexes skip documents and would make queries fall back.
	Partial bson.Raw `bson:"partialFilterExpression"`
}

func listIndexes(ctx context.Context, coll *mongo.Collection) ([]indexInfo, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		var se mongo.ServerError
		if errors.As(err, &se) && se.HasErrorCode(26) { // NamespaceNotFound: no collection yet
			return nil, nil
		}
		return nil, wrap("list indexes of "+coll.Name(), err)
	}
	var out []indexInfo
	if err := cur.All(ctx, &out); err != nil {
		return nil, wrap("list indexes of "+coll.Name(), err)
	}
	return out, nil
}

// ensureIndex makes sure coll has a plain ascending index with key under
// some name, creating it as name if none exists.
func ensureIndex(ctx context.Context, coll *mongo.Collection, name string, key bson.D) (created bool, err error) {
	existing, err := listIndexes(ctx, coll)
	if err != nil {
		return false, err
	}
	want, err := bson.Marshal(key)
	if err != nil {
		return false, err
	}
	for _, ix := range existing {
		sameKey := sameIndexKey(ix.Key, want)
		switch {
		case ix.Name == name && !sameKey:
			return false, &IndexConflictError{coll.Name(), name, "key is " + ix.Key.String() + ", want " + bson.Raw(want).String()}
		case sameKey && ix.Unique:
			return false, &IndexConflictError{coll.Name(), ix.Name, "unique, but a user has many sessions and keys"}
		case sameKey && (ix.Sparse || ix.Partial != nil):
			return false, &IndexConflictError{coll.Name(), ix.Name, "sparse or partial, so it does not cover every document"}
		case sameKey:
			return false, nil
		}
	}
	_, err = coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: key, Options: options.Index().SetName(name)})
	var se mongo.ServerError
	if errors.As(err, &se) && (se.HasErrorCode(85) || se.HasErrorCode(86)) { // IndexOptionsConflict, IndexKeySpecsConflict
		return false, &IndexConflictError{coll.Name(), name, se.Error()}
	}
	if err != nil {
		return false, wrap("create index "+coll.Name()+"."+name, err)
	}
	return true, nil
}

// sameIndexKey compares index key documents field by field, treating the
// numbers 1, 1.0 and int64(1) alike (servers and tools spell them variously).
func sameIndexKey(have bson.Raw, want []byte) bool {
	h, err1 := have.Elements()
	w, err2 := bson.Raw(want).Elements()
	if err1 != nil || err2 != nil || len(h) != len(w) {
		return false
	}
	for i := range h {
		if h[i].Key() != w[i].Key() {
			return false
		}
		hv, hok := h[i].Value().AsFloat64OK()
		wv, wok := w[i].Value().AsFloat64OK()
		if !hok || !wok || hv != wv {
			return false
		}
	}
	return true
}
