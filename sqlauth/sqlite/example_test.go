package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/sqlauth"
	"github.com/luciago/mongoauth/sqlauth/sqlite"
)

func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlauth-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	adapter, err := sqlite.New(ctx, db, sqlauth.Options{})
	if err != nil {
		log.Fatal(err)
	}
	// Create the tables once at start; it is idempotent.
	if err := adapter.CreateTables(ctx); err != nil {
		log.Fatal(err)
	}

	// From here on, the code is the same for every adapter.
	var a auth.Adapter = adapter
	hash := "s2:salt:hex"
	err = a.SetUser(ctx,
		auth.UserRecord{ID: "u1", Attributes: map[string]any{"username": "ann", "age": 41}},
		&auth.KeyRecord{ID: "username:ann", UserID: "u1", HashedPassword: &hash, PrimaryKey: true})
	if err != nil {
		log.Fatal(err)
	}
	err = a.SetSession(ctx, auth.SessionRecord{ID: "s1", UserID: "nobody"})
	fmt.Println(errors.Is(err, auth.ErrInvalidUserID))

	user, _ := a.GetUser(ctx, "u1")
	fmt.Printf("%v %T\n", user.Attributes["username"], user.Attributes["age"])
	// Output:
	// true
	// ann int64
}
