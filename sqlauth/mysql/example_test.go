package mysql_test

import (
	"context"
	"database/sql"
	"log"
	"os"

	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/mysql"
)

func ExampleNew() {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv("DATABASE_URL")) // user:password@tcp(host:3306)/app
	if err != nil {
		log.Fatal(err)
	}
	adapter, err := mysql.New(ctx, db, sqlauth.Options{
		// PlanetScale and other schemas without foreign keys: the adapter
		// checks users and cascades deletes itself.
		NoForeignKeys: true,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := adapter.CreateTables(ctx); err != nil {
		log.Fatal(err)
	}
}
