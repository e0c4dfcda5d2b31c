package sqlauth

import (
	"fmt"
	"strings"
)

// Default table names, the same as Lucia's.
const (
	DefaultUserTable    = "auth_user"
	DefaultSessionTable = "auth_session"
	DefaultKeyTable     = "auth_key"
	// DefaultThrottleTable is the usual Options.ThrottleTable.
	DefaultThrottleTable = "auth_throttle"
)

// Options configure an Adapter. The zero value is ready to use: tables
// auth_user, auth_session and auth_key in the connection's default schema,
// with the database's foreign keys keeping sessions and keys tied to users.
type Options struct {
	// UserTable names the users' table; default "auth_user". Any of the
	// three names may be qualified by the schema (PostgreSQL), database
	// (MySQL) or attached database (SQLite) that holds the table, as in
	// "app.auth_user". Each part must be a plain identifier: an ASCII letter
	// or underscore, then letters, digits or underscores, at most 63 bytes.
	// Names are quoted in every statement, so they keep their case and may be
	// reserved words.
	UserTable string
	// SessionTable names the sessions' table; default "auth_session".
	SessionTable string
	// KeyTable names the keys' table; default "auth_key".
	KeyTable string
	// ThrottleTable names the table of the login throttle's records
	// (Adapter.ThrottleStore), usually DefaultThrottleTable; empty, the
	// default, means none, and CreateTables leaves it out.
	ThrottleTable string

	// NoForeignKeys makes the adapter keep referential integrity itself, for
	// databases without foreign keys such as PlanetScale (Prisma calls this
	// relationMode = "prisma"). The default, false, relies on the foreign
	// keys that CreateTables declares (ON DELETE CASCADE).
	//
	// With NoForeignKeys, CreateTables leaves the foreign keys out; SetSession
	// and SetKey check the user inside a transaction that holds a shared row
	// lock on it until the insert commits, and DeleteUser deletes the user,
	// its sessions and its keys in one transaction. A session inserted while
	// its user is being deleted therefore either sees the user gone and fails
	// with auth.ErrInvalidUserID, or commits first and is deleted by that
	// deletion; it never outlives its user. See the package documentation.
	NoForeignKeys bool

	// Attributes says where user attributes are kept: the default,
	// DetectAttributes, looks at the user table, which suits both the
	// tables CreateTables makes (one JSON column) and those of a Lucia v1
	// application (a column per attribute); AttributesJSON and
	// AttributesInColumns say it explicitly. See AttributeStorage. The
	// same setting says where session attributes are kept in the session
	// table, which the adapter always looks at.
	Attributes AttributeStorage
}

// maxIdentifier is PostgreSQL's identifier limit, the strictest of the three.
const maxIdentifier = 63

// parseTable splits "schema.name" and checks both parts.
func parseTable(option, value, def string) (Table, error) {
	if value == "" {
		value = def
	}
	parts := strings.Split(value, ".")
	if len(parts) > 2 {
		return Table{}, fmt.Errorf("sqlauth: %s %q: more than one '.'", option, value)
	}
	for _, p := range parts {
		if reason := badIdentifier(p); reason != "" {
			return Table{}, fmt.Errorf("sqlauth: %s %q: %s", option, value, reason)
		}
	}
	if len(parts) == 2 {
		return Table{Schema: parts[0], Name: parts[1]}, nil
	}
	return Table{Name: parts[0]}, nil
}

func badIdentifier(s string) string {
	if s == "" {
		return "empty name"
	}
	if len(s) > maxIdentifier {
		return "name longer than 63 bytes"
	}
	for i, c := range []byte(s) {
		letter := c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return fmt.Sprintf("character %q at %d: want ASCII letters, digits and underscores, not starting with a digit", c, i)
		}
	}
	return ""
}

// schema resolves the options into the tables the adapter uses.
func (o Options) schema() (Schema, error) {
	var s Schema
	var err error
	if s.Users, err = parseTable("UserTable", o.UserTable, DefaultUserTable); err != nil {
		return s, err
	}
	if s.Sessions, err = parseTable("SessionTable", o.SessionTable, DefaultSessionTable); err != nil {
		return s, err
	}
	if s.Keys, err = parseTable("KeyTable", o.KeyTable, DefaultKeyTable); err != nil {
		return s, err
	}
	if s.Users == s.Sessions || s.Users == s.Keys || s.Sessions == s.Keys {
		return s, fmt.Errorf("sqlauth: users, sessions and keys need three different tables (have %s, %s, %s)", s.Users, s.Sessions, s.Keys)
	}
	if o.ThrottleTable != "" {
		if s.Throttle, err = parseTable("ThrottleTable", o.ThrottleTable, ""); err != nil {
			return s, err
		}
		if s.Throttle == s.Users || s.Throttle == s.Sessions || s.Throttle == s.Keys {
			return s, fmt.Errorf("sqlauth: the throttle table %s must be a fourth one", s.Throttle)
		}
	}
	s.ForeignKeys = !o.NoForeignKeys
	if o.Attributes < DetectAttributes || o.Attributes > AttributesInColumns {
		return s, fmt.Errorf("sqlauth: unknown Attributes %d", int(o.Attributes))
	}
	s.Attributes = o.Attributes
	return s, nil
}
