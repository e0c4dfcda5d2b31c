package mongoauth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth/auth"
)

// Server error codes for a unique index violation: on insert, on update,
// and in a capped collection.
var duplicateKeyCodes = []int{11000, 11001, 12582}

// codeInternalError is what servers built on a relational store answer
// when that store refuses an update (see uniqueViolations).
const codeInternalError = 1

// uniqueViolations are the relational stores' words for a unique
// constraint refusing a write, which FerretDB passes on as an
// InternalError (code 1) instead of a duplicate key: DocumentDB's
// (PostgreSQL) for an update, `conflicting key value violates exclusion
// constraint "documents_rum_index_985"`, and SQLite's for FerretDB v1's,
// `UNIQUE constraint failed: index '...'`. Neither names the index as the
// application knows it; updateDuplicate finds it.
var uniqueViolations = []string{"violates exclusion constraint", "violates unique constraint", "UNIQUE constraint failed"}

// isDuplicateKey reports whether err is a unique index refusing a write.
func isDuplicateKey(err error) bool {
	if hasCode(err, duplicateKeyCodes...) {
		return true
	}
	var ce mongo.CommandError
	if !errors.As(err, &ce) || ce.Code != codeInternalError {
		return false
	}
	return slices.ContainsFunc(uniqueViolations, func(words string) bool { return strings.Contains(ce.Message, words) })
}

// keyPattern returns the key pattern of the unique index behind a
// duplicate-key error, such as {"email": 1}. MongoDB 4.2 and later put it
// in the write error (insert, update) or in the command's reply
// (findAndModify), next to the duplicate value (keyValue, deliberately not
// read). Older servers and some compatible ones (FerretDB, DocumentDB)
// send only a message; keyPattern then returns false.
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

// indexNamePatterns find the index's name in a duplicate-key message, the
// one thing some servers say about it: MongoDB's "E11000 duplicate key
// error collection: app.auth_user index: email_1 dup key: ..." and
// DocumentDB's "Duplicate key violation on the requested collection:
// Index 'email_1'". A name found is only believed once listIndexes has it
// (see insertDuplicate), except where keyPattern confirms the clash.
var indexNamePatterns = []*regexp.Regexp{
	regexp.MustCompile(`index: (\S+) dup key`),
	regexp.MustCompile(`Index '([^']+)'`),
}

// indexNameIn returns the index a duplicate-key error names, or "".
func indexNameIn(err error) string {
	var messages []string
	var we mongo.WriteException
	if errors.As(err, &we) {
		for _, e := range we.WriteErrors {
			if slices.Contains(duplicateKeyCodes, e.Code) {
				messages = append(messages, e.Message)
			}
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && slices.Contains(duplicateKeyCodes, int(ce.Code)) {
		messages = append(messages, ce.Message)
	}
	for _, m := range messages {
		for _, p := range indexNamePatterns {
			if match := p.FindStringSubmatch(m); match != nil {
				return match[1]
			}
		}
	}
	return ""
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

// idIndex is the name of the index on _id, the same on every server.
const idIndex = "_id_"

// insertDuplicate says what a duplicate-key error from inserting doc
// (whose first field is its string _id) into coll means: duplicateID (the
// id is taken) when the clash is on _id, an *auth.DuplicateValueError
// naming the index and its fields when it is on another unique index, one
// the application added.
//
// MongoDB 4.2 and later name the index's fields (keyPattern). Where the
// server names only the index (DocumentDB), its fields come from
// listIndexes. Where it names nothing (FerretDB v1, MongoDB before 4.2),
// the document's id is looked up: if a document with it exists, the id was
// taken. If not, the unique indexes are checked for a document holding
// the values inserted (see clashingIndex); the first that has one is named.
// If none has (the document may have been deleted since the insert, by
// another request), the value counts as refused by another index, unnamed,
// only if the collection has one; with _id its only unique index, the id
// was taken. The reads run outside any session the context carries, since
// a failed write may have aborted that session's transaction, and read the
// latest committed data.
func insertDuplicate(ctx context.Context, coll *mongo.Collection, doc bson.D, err, duplicateID error) error {
	name := indexNameIn(err)
	if pattern, ok := keyPattern(err); ok {
		fields := patternFields(pattern)
		if len(fields) == 1 && fields[0] == fieldID {
			return duplicateID
		}
		return &auth.DuplicateValueError{Index: name, Fields: fields, Err: err}
	}
	if name == idIndex {
		return duplicateID
	}
	ctx = isolate(ctx)
	undecided := func(lookup error) error {
		return fmt.Errorf("mongoauth: insert into %s: %w; telling which unique index refused it failed: %w", coll.Name(), err, lookup)
	}
	indexes, listErr := uniqueIndexes(ctx, coll)
	if i := slices.IndexFunc(indexes, func(u uniqueIndex) bool { return u.name == name }); name != "" && i >= 0 {
		return &auth.DuplicateValueError{Index: name, Fields: indexes[i].fields, Err: err}
	}
	id, _ := doc[0].Value.(string)
	found := coll.FindOne(ctx, byID(id), options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}})).Err()
	switch {
	case found == nil:
		return duplicateID
	case !errors.Is(found, mongo.ErrNoDocuments):
		return undecided(found)
	case listErr != nil:
		return undecided(listErr)
	}
	values, mErr := bson.Marshal(doc)
	if mErr != nil {
		return undecided(mErr)
	}
	clash, cErr := clashingIndex(ctx, coll, indexes, values, id)
	switch {
	case cErr != nil:
		return undecided(cErr)
	case clash != nil:
		return &auth.DuplicateValueError{Index: clash.name, Fields: clash.fields, Err: err}
	case len(indexes) > 0:
		return &auth.DuplicateValueError{Index: name, Err: err}
	}
	return duplicateID
}

// updateDuplicate is insertDuplicate for an update of the document with
// _id id by $set: the clash is always on another unique index than _id's.
// DocumentDB reports it as an InternalError naming its own constraint, and
// FerretDB v1 as one naming its SQLite index, so the unique indexes whose
// fields the update sets are checked for another document holding the
// values the document would have had. An index found is named; otherwise
// the error names none. It is a *auth.DuplicateValueError either way.
func updateDuplicate(ctx context.Context, coll *mongo.Collection, id string, set bson.D, err error) error {
	name := indexNameIn(err)
	if pattern, ok := keyPattern(err); ok {
		return &auth.DuplicateValueError{Index: name, Fields: patternFields(pattern), Err: err}
	}
	unnamed := &auth.DuplicateValueError{Index: name, Err: err}
	ctx = isolate(ctx)
	indexes, listErr := uniqueIndexes(ctx, coll)
	if listErr != nil {
		return unnamed
	}
	if i := slices.IndexFunc(indexes, func(u uniqueIndex) bool { return u.name == name }); name != "" && i >= 0 {
		return &auth.DuplicateValueError{Index: name, Fields: indexes[i].fields, Err: err}
	}
	touched := slices.DeleteFunc(indexes, func(u uniqueIndex) bool {
		return !slices.ContainsFunc(u.fields, func(f string) bool {
			top, _, _ := strings.Cut(f, ".")
			return slices.ContainsFunc(set, func(e bson.E) bool { return e.Key == top })
		})
	})
	current, findErr := findByID(ctx, coll, id)
	if findErr != nil || len(touched) == 0 {
		return unnamed
	}
	values, mErr := updated(current, set)
	if mErr != nil {
		return unnamed
	}
	if clash, _ := clashingIndex(ctx, coll, touched, values, id); clash != nil {
		return &auth.DuplicateValueError{Index: clash.name, Fields: clash.fields, Err: err}
	}
	return unnamed
}

// updated is doc with the top-level fields of set replaced or added, as
// $set with top-level names leaves it.
func updated(doc bson.Raw, set bson.D) (bson.Raw, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	out := make(bson.D, 0, len(elems)+len(set))
	for _, e := range elems {
		if !slices.ContainsFunc(set, func(s bson.E) bool { return s.Key == e.Key() }) {
			out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	return bson.Marshal(append(out, set...))
}

// uniqueIndex is a unique index other than _id's, as listIndexes
// describes it.
type uniqueIndex struct {
	name   string
	fields []string
	sparse bool
	// partial is the partialFilterExpression, or nil.
	partial bson.Raw
	// collation is the index's collation, or nil.
	collation *options.Collation
}

// uniqueIndexes lists coll's unique indexes other than _id's, in
// listIndexes order, with ascending or descending keys (others cannot be
// unique, or cannot be matched by equality).
func uniqueIndexes(ctx context.Context, coll *mongo.Collection) ([]uniqueIndex, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return nil, err
	}
	defer closeCursor(ctx, cur)
	var out []uniqueIndex
	for cur.Next(ctx) {
		spec := cur.Current
		name, _ := spec.Lookup("name").StringValueOK()
		if unique, _ := spec.Lookup("unique").BooleanOK(); !unique || name == idIndex {
			continue
		}
		key, ok := spec.Lookup("key").DocumentOK()
		if !ok {
			continue
		}
		u := uniqueIndex{name: name, fields: patternFields(key)}
		u.sparse, _ = spec.Lookup("sparse").BooleanOK()
		u.partial, _ = spec.Lookup("partialFilterExpression").DocumentOK()
		if c, ok := spec.Lookup("collation").DocumentOK(); ok {
			u.collation = readCollation(c)
		}
		values, _ := key.Values()
		if u.fields != nil && !slices.ContainsFunc(values, func(v bson.RawValue) bool { _, number := v.AsFloat64OK(); return !number }) {
			out = append(out, u)
		}
	}
	return out, cur.Err()
}

// readCollation reads an index's collation for a query that must compare
// as the index does (a case-insensitive unique email).
func readCollation(c bson.Raw) *options.Collation {
	str := func(k string) string { s, _ := c.Lookup(k).StringValueOK(); return s }
	flag := func(k string) bool { b, _ := c.Lookup(k).BooleanOK(); return b }
	strength, _ := c.Lookup("strength").AsInt64OK()
	return &options.Collation{
		Locale: str("locale"), CaseLevel: flag("caseLevel"), CaseFirst: str("caseFirst"), Strength: int(strength),
		NumericOrdering: flag("numericOrdering"), Alternate: str("alternate"), MaxVariable: str("maxVariable"),
		Normalization: flag("normalization"), Backwards: flag("backwards"),
	}
}

// clashingIndex returns the first of indexes under which another document
// than the one with _id id holds the values that values (the document as
// written) has in the index's fields, or nil. Indexes whose fields values
// all has are tried first. A field values lacks is matched as null, as
// MongoDB's unique indexes count it (FerretDB v1's let any number of
// documents lack it, hence the order); a sparse index without any of its
// fields in values, or a partial one whose filter the other document does
// not match, cannot clash.
func clashingIndex(ctx context.Context, coll *mongo.Collection, indexes []uniqueIndex, values bson.Raw, id string) (*uniqueIndex, error) {
	type query struct {
		index  *uniqueIndex
		filter bson.D
	}
	var complete, partial []query
	for i, u := range indexes {
		clauses := bson.A{bson.D{{Key: fieldID, Value: bson.D{{Key: "$ne", Value: id}}}}}
		present := 0
		for _, field := range u.fields {
			var value any // null
			if v, err := values.LookupErr(strings.Split(field, ".")...); err == nil {
				value, present = v, present+1
			}
			clauses = append(clauses, bson.D{{Key: field, Value: value}})
		}
		if u.partial != nil {
			clauses = append(clauses, u.partial)
		}
		q := query{&indexes[i], bson.D{{Key: "$and", Value: clauses}}}
		switch {
		case present == len(u.fields):
			complete = append(complete, q)
		case present > 0 || !u.sparse:
			partial = append(partial, q)
		}
	}
	for _, q := range append(complete, partial...) {
		opts := options.FindOne().SetProjection(bson.D{{Key: fieldID, Value: 1}})
		if q.index.collation != nil {
			opts.SetCollation(q.index.collation)
		}
		err := coll.FindOne(ctx, q.filter, opts).Err()
		switch {
		case err == nil:
			return q.index, nil
		case !errors.Is(err, mongo.ErrNoDocuments):
			return nil, err
		}
	}
	return nil, nil
}
