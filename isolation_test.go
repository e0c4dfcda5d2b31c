package mongoauth_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/auth"
)

// TestCallerSessionStaysOutside: a MongoDB session in the caller's context
// (mongo.NewSessionContext), in a transaction or not, never carries an
// adapter command: New and every method of the adapter run in sessions of
// their own, with and without transactions.
func TestCallerSessionStaysOutside(t *testing.T) {
	for _, mode := range []string{"standalone", "transactions"} {
		for _, callerTxn := range []bool{false, true} {
			name := mode + "/caller session"
			if callerTxn {
				name += " in a transaction"
			}
			t.Run(name, func(t *testing.T) {
				var log commandLog
				proxy := startWireProxy(t)
				opts := mongoauth.Options{Transactions: mongoauth.TransactionsOff}
				if mode == "transactions" {
					proxy.set(commitsTransactions, asReplicaSet)
					opts.Transactions = mongoauth.TransactionsRequired
				}
				client := proxy.client(t, "", log.monitor())
				db := scratchDatabase(t, client)
				caller, err := client.StartSession()
				require.NoError(t, err)
				defer caller.EndSession(context.Background())
				if callerTxn {
					require.NoError(t, caller.StartTransaction())
				}
				callerCtx := mongo.NewSessionContext(ctx(t), caller)

				a, err := mongoauth.New(callerCtx, db, opts)
				require.NoError(t, err)
				assertOwnSession(t, "New", caller, &log)
				// ReplaceKeyPassword sends nothing where updates are not
				// atomic (FerretDB); here it must send its command.
				mongoauth.AssumeAtomicUpdates(a)
				for _, m := range adapterMethods(t, a) {
					log.reset()
					m.call(callerCtx)
					assertOwnSession(t, m.name, caller, &log)
				}
			})
		}
	}
}

// assertOwnSession checks that the logged commands were sent, and none in
// the caller's session.
func assertOwnSession(t *testing.T, call string, caller *mongo.Session, log *commandLog) {
	t.Helper()
	log.mu.Lock()
	defer log.mu.Unlock()
	require.NotEmpty(t, log.cmds, "%s sent no command: the test cannot tell whose session it used", call)
	for _, cmd := range log.cmds {
		lsid, err := cmd.LookupErr("lsid")
		if err == nil && bytes.Equal(lsid.Value, caller.ID()) {
			assert.Failf(t, "caller's session used", "%s sent %s in the caller's session: %s", call, commandName(cmd), cmd)
		}
	}
}

// adapterMethod is one exported method of the adapter that takes a context
// first, with test arguments.
type adapterMethod struct {
	name string
	call func(ctx context.Context)
}

// adapterMethods lists every such method, by reflection, so that a method
// added later is covered too (or the test says which argument it lacks).
func adapterMethods(t *testing.T, a *mongoauth.Adapter) []adapterMethod {
	t.Helper()
	ctxType := reflect.TypeFor[context.Context]()
	v := reflect.ValueOf(a)
	var out []adapterMethod
	for i := range v.NumMethod() {
		m, mt := v.Method(i), v.Type().Method(i)
		if m.Type().NumIn() == 0 || m.Type().In(0) != ctxType {
			continue
		}
		args := make([]reflect.Value, m.Type().NumIn())
		for j := 1; j < len(args); j++ {
			arg, ok := testArgument(m.Type().In(j))
			if !ok {
				t.Errorf("no test argument of type %v for Adapter.%s: add one to testArgument", m.Type().In(j), mt.Name)
				arg = reflect.Zero(m.Type().In(j))
			}
			args[j] = arg
		}
		out = append(out, adapterMethod{name: mt.Name, call: func(ctx context.Context) {
			args[0] = reflect.ValueOf(&ctx).Elem()
			m.Call(args)
		}})
	}
	require.NotEmpty(t, out)
	return out
}

// testArgument is a valid argument of type typ, for calls whose result does
// not matter, only that they reach the database.
func testArgument(typ reflect.Type) (reflect.Value, bool) {
	hash := "s2:salt:hash"
	var v any
	switch typ {
	case reflect.TypeFor[string]():
		v = "iso"
	case reflect.TypeFor[auth.UserRecord]():
		v = auth.UserRecord{ID: "iso", Attributes: map[string]any{"n": 1}}
	case reflect.TypeFor[*auth.KeyRecord]():
		v = &auth.KeyRecord{ID: "username:iso", UserID: "iso", HashedPassword: &hash, PrimaryKey: true}
	case reflect.TypeFor[auth.KeyRecord]():
		v = auth.KeyRecord{ID: "otp:iso", UserID: "iso"}
	case reflect.TypeFor[auth.SessionRecord]():
		v = auth.SessionRecord{ID: "iso-session", UserID: "iso", ActiveExpires: future, IdleExpires: future}
	case reflect.TypeFor[map[string]any]():
		v = map[string]any{"n": 2}
	case reflect.TypeFor[*string]():
		v = &hash
	case reflect.TypeFor[mongoauth.RepairOptions]():
		v = mongoauth.RepairOptions{OrphanGrace: -1}
	case reflect.TypeFor[bson.D]():
		v = bson.D{}
	case reflect.TypeFor[int64]():
		v = future
	case reflect.TypeFor[auth.SessionUpdate]():
		v = auth.SessionUpdate{ActiveExpires: future, IdleExpires: future}
	default:
		return reflect.Value{}, false
	}
	return reflect.ValueOf(v), true
}
