package mongoauth_test

import (
	"context"
	"errors"
	"log"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

func ExampleNew() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://localhost:27017/?replicaSet=rs0"))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{
		// Refuse to run without transactions instead of falling back to the
		// standalone protocol.
		Transactions: mongoauth.TransactionsRequired,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Create the user_id indexes once at start; it is idempotent.
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}

	err = adapter.SetSession(ctx, auth.SessionRecord{ID: "session-id", UserID: "no-such-user"})
	if errors.Is(err, auth.ErrInvalidUserID) {
		log.Print("sessions need an existing user")
	}
}

// Run Repair periodically where the server has no TTL indexes (FerretDB,
// or without Options.SessionTTL): it deletes expired sessions and keys and
// orphans, and leaves alone what needs a person (see Report).
func ExampleAdapter_Repair() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://localhost:27017"))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	for range time.Tick(time.Hour) {
		report, err := adapter.Repair(ctx, mongoauth.RepairOptions{})
		if err != nil {
			log.Print(err)
			continue
		}
		log.Printf("deleted %d expired and %d orphan sessions; %d unreadable documents and %d index conflicts need a person",
			report.ExpiredSessions.Deleted, report.OrphanSessions.Deleted, report.Unreadable.Found, len(report.Indexes.Conflicts))
	}
}

// With SessionTTL the server deletes dead sessions itself, where it supports
// TTL indexes; EnsureIndexes says whether it does.
func ExampleOptions_sessionTTL() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://localhost:27017"))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{SessionTTL: true})
	if err != nil {
		log.Fatal(err)
	}
	report, err := adapter.EnsureIndexes(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if len(report.Unsupported) > 0 {
		log.Printf("no TTL indexes on this server (%v): run Repair periodically", report.Unsupported)
	}
}

// Every instance of the application counts failed logins in one
// collection, so that N instances do not give an attacker N allowances.
func ExampleAdapter_ThrottleStore() {
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://localhost:27017"))
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mongoauth.New(ctx, client.Database("app"), mongoauth.Options{
		ThrottleCollection: mongoauth.DefaultThrottleCollection,
	})
	if err != nil {
		log.Fatal(err)
	}
	// The collection and its TTL index (records go once they hold no debt).
	if _, err := adapter.EnsureIndexes(ctx); err != nil {
		log.Fatal(err)
	}
	store, err := adapter.ThrottleStore()
	if err != nil {
		log.Fatal(err)
	}
	a, err := auth.New[map[string]any](adapter, auth.Config{ThrottleStore: store})
	if err != nil {
		log.Fatal(err)
	}
	_ = a
}
