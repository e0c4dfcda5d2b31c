package sqlauth

import "strings"

// Columns the adapter reads, in the order its scanners expect: a
// session's are Lucia's four, then its creation time (issued_at), which
// Lucia's tables lack (see issuedAtColumn).
const (
	luciaSessionColumns = "id, user_id, active_expires, idle_expires"
	sessionColumns      = luciaSessionColumns + ", " + issuedAtColumn
	keyColumns          = "id, user_id, hashed_password, primary_key, expires"
)

// sessionBase are sessionColumns one by one: the session table's own
// columns, in the order every statement reads them.
var sessionBase = strings.Split(sessionColumns, ", ")

// statements are the adapter's SQL, built once by New. Ids only ever travel
// as bind parameters; table names were checked to be plain identifiers and
// are quoted.
type statements struct {
	getUser, insertUser, lockUser, lockUserAttributes, updateAttributes, deleteUser string

	insertSession, deleteSession, deleteSessionsByUser string
	// sessionExists tells a missing session from an unchanged one when an
	// UPDATE affects no row; lockSessionAttributes reads the JSON column
	// for a read-modify-write.
	sessionExists, lockSessionAttributes, deleteExpiredSessions string

	getKey, getKeysByUser, lockKey, insertKey, updatePassword, deleteNonPrimaryKey, deleteKeysByUser string
	// replacePassword and keyWithPassword compare the stored hash byte
	// for byte (see Syntax.ExactText).
	replacePassword, keyWithPassword string

	// probes select every column the adapter uses and match no row: they
	// fail when a table or column is missing.
	probes [3]string
}

func newStatements(syntax Syntax, s Schema) statements {
	users, sessions, keys := s.Users.Quoted(syntax), s.Sessions.Quoted(syntax), s.Keys.Quoted(syntax)
	share, update := syntax.LockForShare, syntax.LockForUpdate
	exact := syntax.ExactText
	if exact == "" {
		exact = "?"
	}
	st := statements{
		getUser:            "SELECT attributes FROM " + users + " WHERE id = ?",
		insertUser:         "INSERT INTO " + users + " (id, attributes) VALUES (?, ?)",
		lockUser:           "SELECT id FROM " + users + " WHERE id = ?" + share,
		lockUserAttributes: "SELECT attributes FROM " + users + " WHERE id = ?" + update,
		updateAttributes:   "UPDATE " + users + " SET attributes = ? WHERE id = ?",
		deleteUser:         "DELETE FROM " + users + " WHERE id = ?",

		insertSession:        "INSERT INTO " + sessions + " (" + sessionColumns + ") VALUES (?, ?, ?, ?, ?)",
		deleteSession:        "DELETE FROM " + sessions + " WHERE id = ?",
		deleteSessionsByUser: "DELETE FROM " + sessions + " WHERE user_id = ?",

		sessionExists:         "SELECT 1 FROM " + sessions + " WHERE id = ?",
		lockSessionAttributes: "SELECT attributes FROM " + sessions + " WHERE id = ?" + update,
		deleteExpiredSessions: "DELETE FROM " + sessions + " WHERE user_id = ? AND idle_expires <= ?",

		getKey:              "SELECT " + keyColumns + " FROM " + keys + " WHERE id = ?",
		getKeysByUser:       "SELECT " + keyColumns + " FROM " + keys + " WHERE user_id = ?",
		lockKey:             "SELECT " + keyColumns + " FROM " + keys + " WHERE id = ?" + update,
		insertKey:           "INSERT INTO " + keys + " (" + keyColumns + ") VALUES (?, ?, ?, ?, ?)",
		updatePassword:      "UPDATE " + keys + " SET hashed_password = ? WHERE id = ?",
		deleteNonPrimaryKey: "DELETE FROM " + keys + " WHERE id = ? AND primary_key = ?",
		deleteKeysByUser:    "DELETE FROM " + keys + " WHERE user_id = ?",

		replacePassword: "UPDATE " + keys + " SET hashed_password = ? WHERE id = ? AND hashed_password = " + exact,
		keyWithPassword: "SELECT 1 FROM " + keys + " WHERE id = ? AND hashed_password = " + exact,

		probes: [3]string{
			"SELECT id, attributes FROM " + users + " WHERE 1 = 0",
			// issued_at is the session table's inspection's business,
			// which says how to add it.
			"SELECT " + luciaSessionColumns + " FROM " + sessions + " WHERE 1 = 0",
			"SELECT " + keyColumns + " FROM " + keys + " WHERE 1 = 0",
		},
	}
	for _, q := range []*string{
		&st.getUser, &st.insertUser, &st.lockUser, &st.lockUserAttributes, &st.updateAttributes, &st.deleteUser,
		&st.insertSession, &st.deleteSession, &st.deleteSessionsByUser,
		&st.sessionExists, &st.lockSessionAttributes, &st.deleteExpiredSessions,
		&st.getKey, &st.getKeysByUser, &st.lockKey, &st.insertKey, &st.updatePassword, &st.deleteNonPrimaryKey, &st.deleteKeysByUser,
		&st.replacePassword, &st.keyWithPassword,
	} {
		*q = syntax.Bind(*q)
	}
	return st
}
