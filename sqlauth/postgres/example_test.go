package postgres_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/postgres"
)

func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // postgres://user@host:5432/app
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := postgres.New(ctx, db, sqlauth.Options{
		// Lucia's table names live in the schema "auth" here.
		UserTable:    "auth.auth_user",
		SessionTable: "auth.auth_session",
		KeyTable:     "auth.auth_key",
	})
	if err != nil {
		log.Fatal(err)
	}
	// Create the tables once at start (idempotent), or run
	// sqlauth.CreateTablesSQL's statements in a migration and call
	// adapter.CheckSchema instead.
	if err := adapter.CreateTables(ctx); err != nil {
		log.Fatal(err)
	}
}
