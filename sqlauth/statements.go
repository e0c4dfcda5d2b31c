package sqlauth

// Columns the adapter reads, in the order its scanners expect.
const (
	sessionColumns = "id, user_id, active_expires, idle_expires"
	keyColumns     = "id, user_id, hashed_password, primary_key, expires"
)

// statements are the adapter's SQL, built once by New. Ids only ever travel
// as bind parameters; table names were checked to be plain identifiers and
// are quoted.
type statements struct {
	getUser, insertUser, lockUser, lockUserAttributes, updateAttributes, deleteUser string

	insertSession, deleteSession, deleteSessionsByUser string

	getKey, getKeysByUser, lockKey, insertKey, updatePassword, deleteNonPrimaryKey, deleteKeysByUser string

	// probes select every column the adapter uses and match no row: they
	// fail when a table or column is missing.
	probes [3]string
}

func newStatements(syntax Syntax, s Schema) statements {
	users, sessions, keys := s.Users.Quoted(syntax), s.Sessions.Quoted(syntax), s.Keys.Quoted(syntax)
	share, update := syntax.LockForShare, syntax.LockForUpdate
	st := statements{
		getUser:            "SELECT attributes FROM " + users + " WHERE id = ?",
		insertUser:         "INSERT INTO " + users + " (id, attributes) VALUES (?, ?)",
		lockUser:           "SELECT id FROM " + users + " WHERE id = ?" + share,
		lockUserAttributes: "SELECT attributes FROM " + users + " WHERE id = ?" + update,
		updateAttributes:   "UPDATE " + users + " SET attributes = ? WHERE id = ?",
		deleteUser:         "DELETE FROM " + users + " WHERE id = ?",

		insertSession:        "INSERT INTO " + sessions + " (" + sessionColumns + ") VALUES (?, ?, ?, ?)",
		deleteSession:        "DELETE FROM " + sessions + " WHERE id = ?",
		deleteSessionsByUser: "DELETE FROM " + sessions + " WHERE user_id = ?",

		getKey:              "SELECT " + keyColumns + " FROM " + keys + " WHERE id = ?",
		getKeysByUser:       "SELECT " + keyColumns + " FROM " + keys + " WHERE user_id = ?",
		lockKey:             "SELECT " + keyColumns + " FROM " + keys + " WHERE id = ?" + update,
		insertKey:           "INSERT INTO " + keys + " (" + keyColumns + ") VALUES (?, ?, ?, ?, ?)",
		updatePassword:      "UPDATE " + keys + " SET hashed_password = ? WHERE id = ?",
		deleteNonPrimaryKey: "DELETE FROM " + keys + " WHERE id = ? AND primary_key = ?",
		deleteKeysByUser:    "DELETE FROM " + keys + " WHERE user_id = ?",

		probes: [3]string{
			"SELECT id, attributes FROM " + users + " WHERE 1 = 0",
			"SELECT " + sessionColumns + " FROM " + sessions + " WHERE 1 = 0",
			"SELECT " + keyColumns + " FROM " + keys + " WHERE 1 = 0",
		},
	}
	for _, q := range []*string{
		&st.getUser, &st.insertUser, &st.lockUser, &st.lockUserAttributes, &st.updateAttributes, &st.deleteUser,
		&st.insertSession, &st.deleteSession, &st.deleteSessionsByUser,
		&st.getKey, &st.getKeysByUser, &st.lockKey, &st.insertKey, &st.updatePassword, &st.deleteNonPrimaryKey, &st.deleteKeysByUser,
	} {
		*q = syntax.Bind(*q)
	}
	return st
}
