package mongoauth

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The oldest server the adapter supports: MongoDB 4.4, wire version 9, the
// driver's own minimum. Every feature the adapter uses exists there:
// transactions on replica sets and sharded clusters (4.2), collections
// created inside a transaction (4.4), $lookup, read concerns "local" and
// "snapshot".
const (
	minWireVersion   = 9
	minServerVersion = "4.4"
)

// ServerVersionError is returned by New for a server older than the
// adapter supports, MongoDB 4.4 (wire version 9). The driver refuses such
// servers itself, usually before New can ask, with an error that names the
// minimum as well.
type ServerVersionError struct {
	// WireVersion is the server's maxWireVersion.
	WireVersion int
	// MinWireVersion and MinVersion name the minimum: 9, "4.4".
	MinWireVersion int
	MinVersion     string
}

func (e *ServerVersionError) Error() string {
	return fmt.Sprintf("mongoauth: the server speaks wire version %d; the adapter needs MongoDB %s (wire version %d) or newer",
		e.WireVersion, e.MinVersion, e.MinWireVersion)
}

// serverInfo is what hello says about the server.
type serverInfo struct {
	SetName        string `bson:"setName"`
	Msg            string `bson:"msg"`
	MaxWireVersion int    `bson:"maxWireVersion"`
	// LogicalSessionTimeoutMinutes is absent on servers without sessions,
	// and so without transactions.
	LogicalSessionTimeoutMinutes *int64 `bson:"logicalSessionTimeoutMinutes"`
}

// codeCommandNotFound is the server's answer to an unknown command.
const codeCommandNotFound = 59

// askServer runs hello, or the legacy isMaster where hello does not exist
// (MongoDB 4.4.0 and 4.4.1), and checks the wire version.
func askServer(ctx context.Context, db *mongo.Database) (serverInfo, error) {
	var info serverInfo
	err := db.RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&info)
	if hasCode(err, codeCommandNotFound) {
		err = db.RunCommand(ctx, bson.D{{Key: "isMaster", Value: 1}}).Decode(&info)
	}
	if err != nil {
		return info, wrap("hello", err)
	}
	if info.MaxWireVersion < minWireVersion {
		return info, &ServerVersionError{WireVersion: info.MaxWireVersion, MinWireVersion: minWireVersion, MinVersion: minServerVersion}
	}
	return info, nil
}

// mongos reports whether the server is a router of a sharded cluster.
func (s serverInfo) mongos() bool { return s.Msg == "isdbgrid" }

// topology names the deployment for reports.
func (s serverInfo) topology() string {
	switch {
	case s.mongos():
		return "sharded cluster (mongos)"
	case s.SetName != "":
		return fmt.Sprintf("replica set %q", s.SetName)
	}
	return "standalone server"
}

// serverMessage is the server's error within err, as the driver prints
// it, without the operations wrapped around it.
func serverMessage(err error) string {
	var se mongo.ServerError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

// hasCode reports whether err is a server error with one of the codes.
func hasCode(err error, codes ...int) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, code := range codes {
		if se.HasErrorCode(code) {
			return true
		}
	}
	return false
}
