package mongoauth_test

import (
	"context"
	"errors"
	"log"

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
