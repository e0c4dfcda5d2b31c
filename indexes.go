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
	// Unsupported lists optional indexes the server does not implement (the
	// session TTL index on FerretDB v1, for one). The adapter is correct
	// without them: Repair does their work. See Options.SessionTTL.
	Unsupported []string
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

// EnsureIndexes creates the three collections and the indexes the adapter's
// queries need (user_id on sessions and keys, and the TTL index with
// Options.SessionTTL) if they are missing, and with
// Options.ThrottleCollection that collection and its TTL index
// (ThrottleTTLIndex). It is idempotent and safe to
// call at every start; it is never called implicitly. Creating the
// collections up front matters with transactions: a transaction that writes
// to more than one shard cannot create a collection. An equivalent index under another name counts as
// existing. The first conflict found is returned as an *IndexConflictError,
// after the indexes without conflict have been made.
func (a *Adapter) EnsureIndexes(ctx context.Context) (IndexReport, error) {
	ctx = isolate(ctx)
	if err := a.ensureCollections(ctx); err != nil {
		return IndexReport{}, err
	}
	state, err := a.syncIndexes(ctx, true)
	report := IndexReport{Created: state.Created, Existing: state.Existing, Unsupported: state.Unsupported}
	if err == nil && len(state.Conflicts) > 0 {
		err = state.Conflicts[0]
	}
	return report, err
}

// ensureCollections creates the users, sessions and keys collections; one
// that exists already (NamespaceExists) is left as it is.
func (a *Adapter) ensureCollections(ctx context.Context) error {
	colls := []*mongo.Collection{a.users, a.sessions, a.keys}
	if a.throttle != nil {
		colls = append(colls, a.throttle)
	}
	for _, coll := range colls {
		if err := a.db.CreateCollection(ctx, coll.Name()); err != nil && !hasCode(err, codeNamespaceExists) {
			return wrap("create collection "+coll.Name(), err)
		}
	}
	return nil
}

const codeNamespaceExists = 48

// IndexState is what Check and Repair found out about the adapter's
// indexes, as "collection.index" strings.
type IndexState struct {
	// Existing indexes, possibly under another name.
	Existing []string
	// Missing indexes, found absent by Check. Repair creates them instead
	// and lists them under Created (or Unsupported, or Conflicts).
	Missing []string
	// Created by Repair.
	Created []string
	// Conflicts: indexes in the way of a required one. Nothing is changed.
	Conflicts []*IndexConflictError
	// Unsupported: optional indexes the server refused as not implemented.
	Unsupported []string
}

// indexSpec is an index the adapter wants.
type indexSpec struct {
	coll *mongo.Collection
	name string
	key  bson.D
	// ttl asks for expireAfterSeconds: 0, so that the server deletes a
	// document once the date in the indexed field has passed.
	ttl bool
}

func (s indexSpec) String() string { return s.coll.Name() + "." + s.name }

func (a *Adapter) indexSpecs() []indexSpec {
	userID := bson.D{{Key: fieldUserID, Value: 1}}
	specs := []indexSpec{
		{coll: a.sessions, name: UserIDIndex, key: userID},
		{coll: a.keys, name: UserIDIndex, key: userID},
	}
	if a.sessionTTL {
		specs = append(specs, indexSpec{coll: a.sessions, name: SessionTTLIndex, key: bson.D{{Key: fieldExpiresAt, Value: 1}}, ttl: true})
	}
	if a.throttle != nil {
		specs = append(specs, indexSpec{coll: a.throttle, name: ThrottleTTLIndex, key: bson.D{{Key: fieldUntil, Value: 1}}, ttl: true})
	}
	return specs
}

// syncIndexes compares the indexes the adapter wants with those that exist
// and, when create is set, creates the missing ones. Conflicts are
// collected, not returned as errors; err is for failed database calls.
func (a *Adapter) syncIndexes(ctx context.Context, create bool) (IndexState, error) {
	var state IndexState
	for _, spec := range a.indexSpecs() {
		existing, err := listIndexes(ctx, spec.coll)
		if err != nil {
			return state, err
		}
		present, conflict := spec.find(existing)
		switch {
		case conflict != nil:
			state.Conflicts = append(state.Conflicts, conflict)
			continue
		case present:
			state.Existing = append(state.Existing, spec.String())
			continue
		case spec.ttl && (a.ttlUnsupported.Load() || !create && a.ttlRefused(ctx, spec)):
			state.Unsupported = append(state.Unsupported, spec.String())
			continue
		case !create:
			state.Missing = append(state.Missing, spec.String())
			continue
		}
		switch err := spec.create(ctx); {
		case errors.Is(err, errIndexUnsupported):
			a.ttlUnsupported.Store(true)
			state.Unsupported = append(state.Unsupported, spec.String())
		case err != nil:
			var conflict *IndexConflictError
			if !errors.As(err, &conflict) {
				return state, err
			}
			state.Conflicts = append(state.Conflicts, conflict)
		default:
			state.Created = append(state.Created, spec.String())
		}
	}
	return state, nil
}

// indexInfo is the part of a listIndexes entry that matters here.
type indexInfo struct {
	Name   string   `bson:"name"`
	Key    bson.Raw `bson:"key"`
	Unique bool     `bson:"unique"`
	Sparse bool     `bson:"sparse"`
	// Partial indexes skip documents and would make queries fall back.
	Partial bson.Raw `bson:"partialFilterExpression"`
	// ExpireAfterSeconds is set on TTL indexes (Int32, Int64 or Double).
	ExpireAfterSeconds bson.RawValue `bson:"expireAfterSeconds"`
}

func listIndexes(ctx context.Context, coll *mongo.Collection) ([]indexInfo, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		if hasCode(err, 26) { // NamespaceNotFound: no collection yet
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

// find reports whether an index equivalent to s exists, or which one
// stands in its way.
func (s indexSpec) find(existing []indexInfo) (present bool, conflict *IndexConflictError) {
	want, _ := bson.Marshal(s.key) // a bson.D of names and ints always marshals
	for _, ix := range existing {
		sameKey := sameIndexKey(ix.Key, want)
		expireAfter, isTTL := ix.ExpireAfterSeconds.AsFloat64OK()
		switch {
		case ix.Name == s.name && !sameKey:
			return false, &IndexConflictError{s.coll.Name(), s.name, "key is " + ix.Key.String() + ", want " + bson.Raw(want).String()}
		case !sameKey:
			continue
		case ix.Unique:
			return false, &IndexConflictError{s.coll.Name(), ix.Name, "unique, but a user has many sessions and keys"}
		case ix.Sparse || ix.Partial != nil:
			return false, &IndexConflictError{s.coll.Name(), ix.Name, "sparse or partial, so it does not cover every document"}
		case s.ttl && !isTTL:
			return false, &IndexConflictError{s.coll.Name(), ix.Name, "not a TTL index (no expireAfterSeconds); drop it or convert it with collMod"}
		case s.ttl && expireAfter != 0:
			return false, &IndexConflictError{s.coll.Name(), ix.Name, fmt.Sprintf("expireAfterSeconds is %v, want 0 (documents end at the indexed date)", expireAfter)}
		}
		return true, nil
	}
	return false, nil
}

// errIndexUnsupported marks an index option the server does not implement.
var errIndexUnsupported = errors.New("mongoauth: index option not supported by the server")

// create creates s. A server that refuses a TTL index as not implemented,
// or accepts it but does not list it as one, gives errIndexUnsupported.
func (s indexSpec) create(ctx context.Context) error {
	opts := options.Index().SetName(s.name)
	if s.ttl {
		opts.SetExpireAfterSeconds(0)
	}
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: s.key, Options: opts})
	switch {
	case err == nil:
	case hasCode(err, 85, 86): // IndexOptionsConflict, IndexKeySpecsConflict
		return &IndexConflictError{s.coll.Name(), s.name, serverMessage(err)}
	case s.ttl && hasCode(err, codeNotImplemented, codeCommandNotSupported):
		return fmt.Errorf("%w: %s: %w", errIndexUnsupported, s, err)
	default:
		return wrap("create index "+s.String(), err)
	}
	if !s.ttl {
		return nil
	}
	// Do not take the server's word for it: a server that accepted the
	// option but ignores it would leave dead sessions for ever.
	existing, err := listIndexes(ctx, s.coll)
	if err != nil {
		return err
	}
	if present, _ := s.find(existing); !present {
		return fmt.Errorf("%w: %s accepted but not listed as a TTL index", errIndexUnsupported, s)
	}
	return nil
}

// Server error codes of a server that lacks a feature.
const (
	codeCommandNotSupported = 115
	codeNotImplemented      = 238
	// A client in the Stable API's strict mode sent a command outside it.
	codeAPIStrictError = 323
)

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
