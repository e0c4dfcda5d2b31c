package mongoauth_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/luciago/mongoauth"
	"github.com/luciago/mongoauth/mongotest"
)

// A wireProxy stands between the driver and a real server and lies in
// controlled ways: it answers chosen commands itself (a fault, or the reply
// of a capability the server lacks) and rewrites hello replies (a replica
// set name, a wire version). Everything else reaches the server unchanged.
// It is how tests show the adapter deployments the embedded FerretDB is
// not: a replica set whose transactions commit, FerretDB v2 (which
// advertises a replica set it does not have), an election during New.
type wireProxy struct {
	*relay

	mu sync.Mutex // guards the rules
	// answer, when set, may answer a command instead of the server (it may
	// also take its time, to make the caller wait).
	answer func(cmd bson.Raw) (reply bson.D, ok bool)
	// rewrite, when set, may change a command before the server gets it.
	rewrite func(cmd bson.Raw) (bson.Raw, bool)
	// hello, when set, rewrites every hello (and isMaster) reply; request
	// is the command it answers, nil for the driver's first handshake
	// (a legacy OP_QUERY).
	hello func(request bson.Raw, reply bson.D) bson.D
	// observe, when set, sees every command first (a test uses it to act at
	// a given step, such as cancelling the caller's context).
	observe func(cmd bson.Raw)
	// busy, when set, says how long a connection stays busy after a
	// command: the next command on it waits that long after the reply.
	// That is how DocumentDB's $lookup aggregates behave.
	busy func(cmd bson.Raw) time.Duration
	// reply, when set, may rewrite the server's reply to any other command
	// (request is a copy of the whole request message, document sequences
	// included; see opMsgSequence).
	reply func(request []byte, reply bson.D) bson.D
}

// Wire protocol opcodes.
const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013
)

// startWireProxy proxies the embedded server (or MONGODB_URI's) on a free
// local port, until the test ends.
func startWireProxy(t testing.TB) *wireProxy {
	t.Helper()
	srv := mongotest.Shared(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URI, "mongodb://"), "/")
	if i := strings.IndexAny(addr, "/?"); i >= 0 {
		addr = addr[:i]
	}
	if strings.ContainsAny(addr, ",@") {
		t.Skipf("wireProxy needs a single host without credentials, have %s", srv.Description())
	}
	p := &wireProxy{}
	p.relay = startRelay(t, addr, p.forward)
	return p
}

// client connects to the proxy with extra URI options (such as "w=0") and
// an optional command monitor; it is disconnected when the test ends.
func (p *wireProxy) client(t testing.TB, uriOptions string, monitor *event.CommandMonitor) *mongo.Client {
	t.Helper()
	uri := "mongodb://" + p.addr() + "/?directConnection=true&serverSelectionTimeoutMS=5000"
	if uriOptions != "" {
		uri += "&" + uriOptions
	}
	opts := options.Client().ApplyURI(uri)
	if monitor != nil {
		opts.SetMonitor(monitor)
	}
	c, err := mongo.Connect(opts)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

// set replaces the proxy's rules; nil leaves a rule out.
func (p *wireProxy) set(answer func(bson.Raw) (bson.D, bool), hello func(bson.Raw, bson.D) bson.D) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.answer, p.hello = answer, hello
}

func (p *wireProxy) rules() (func(bson.Raw) (bson.D, bool), func(bson.Raw, bson.D) bson.D) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.answer, p.hello
}

// setObserve sets the rule that sees every command.
func (p *wireProxy) setObserve(observe func(bson.Raw)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observe = observe
}

// setBusy sets the rule that keeps a connection busy after a command.
func (p *wireProxy) setBusy(busy func(bson.Raw) time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.busy = busy
}

// setReply sets the rule that rewrites the server's replies.
func (p *wireProxy) setReply(reply func(request []byte, reply bson.D) bson.D) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reply = reply
}

func (p *wireProxy) extraRules() (func(bson.Raw), func(bson.Raw) time.Duration, func([]byte, bson.D) bson.D) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.observe, p.busy, p.reply
}

// setRewrite sets the rule that changes commands on their way.
func (p *wireProxy) setRewrite(rewrite func(bson.Raw) (bson.Raw, bool)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite = rewrite
}

func (p *wireProxy) rewriteRule() func(bson.Raw) (bson.Raw, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rewrite
}

func (p *wireProxy) forward(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	var toClient sync.Mutex // both directions may write to the client
	var pending sync.Map    // request id → request message, for the replies
	writeClient := func(msg []byte) error {
		toClient.Lock()
		defer toClient.Unlock()
		_, err := client.Write(msg)
		return err
	}
	done := make(chan struct{})
	go func() { // server to client, rewriting replies
		defer close(done)
		defer client.Close()
		for {
			msg, err := readMessage(server)
			if err != nil {
				return
			}
			stored, _ := pending.LoadAndDelete(binary.LittleEndian.Uint32(msg[8:]))
			request, _ := stored.([]byte)
			if _, hello := p.rules(); hello != nil {
				cmd, _ := opMsgBody(request)
				msg = rewriteHello(msg, func(reply bson.D) bson.D { return hello(cmd, reply) })
			}
			if _, _, reply := p.extraRules(); reply != nil && request != nil {
				msg = rewriteReply(msg, func(d bson.D) bson.D { return reply(request, d) })
			}
			if writeClient(msg) != nil {
				return
			}
		}
	}()
	var busyUntil time.Time // this connection's, as DocumentDB keeps it busy
	for {                   // client to server, answering what the rules answer
		msg, err := readMessage(client)
		if err != nil {
			break
		}
		time.Sleep(time.Until(busyUntil))
		observe, busy, _ := p.extraRules()
		cmd, isCommand := flatCommand(msg)
		if isCommand && observe != nil {
			observe(cmd)
		}
		if answer, _ := p.rules(); answer != nil && isCommand {
			if reply, ok := answerMessage(msg, cmd, answer); ok {
				if reply != nil && writeClient(reply) != nil {
					break
				}
				if busy != nil {
					busyUntil = time.Now().Add(busy(cmd))
				}
				continue
			}
		}
		if rewrite := p.rewriteRule(); rewrite != nil {
			msg = rewriteRequest(msg, rewrite)
		}
		if isCommand {
			pending.Store(binary.LittleEndian.Uint32(msg[4:]), msg)
		}
		if _, err := server.Write(msg); err != nil {
			break
		}
		if isCommand && busy != nil {
			busyUntil = time.Now().Add(busy(cmd))
		}
	}
	server.Close()
	<-done
}

func readMessage(r io.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return nil, err
	}
	n := int(binary.LittleEndian.Uint32(size[:]))
	if n < 16 || n > 48<<20 {
		return nil, errors.New("wireProxy: bad message length")
	}
	msg := make([]byte, n)
	copy(msg, size[:])
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}

func opcode(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg[12:])) }

// opMsgBody returns the command document of an OP_MSG (its kind 0
// section); ok is false for other messages.
func opMsgBody(msg []byte) (bson.Raw, bool) {
	if len(msg) < 21 || opcode(msg) != opMsg || msg[20] != 0 {
		return nil, false
	}
	doc := bson.Raw(msg[21:])
	if len(doc) < 5 {
		return nil, false
	}
	n := binary.LittleEndian.Uint32(doc)
	if int(n) > len(doc) {
		return nil, false
	}
	doc = doc[:n]
	return doc, doc.Validate() == nil
}

// answerMessage asks answer about cmd, the command of the OP_MSG msg; if it
// answers, the reply is an OP_MSG responding to the request (nil when the
// request wanted none, moreToCome).
func answerMessage(msg []byte, cmd bson.Raw, answer func(bson.Raw) (bson.D, bool)) ([]byte, bool) {
	reply, ok := answer(cmd)
	if !ok {
		return nil, false
	}
	if binary.LittleEndian.Uint32(msg[16:])&2 != 0 { // moreToCome: no reply expected
		return nil, true
	}
	body, err := bson.Marshal(reply)
	if err != nil {
		panic(err)
	}
	requestID := binary.LittleEndian.Uint32(msg[4:])
	out := binary.LittleEndian.AppendUint32(nil, uint32(21+len(body)))
	out = binary.LittleEndian.AppendUint32(out, requestID+1<<30)
	out = binary.LittleEndian.AppendUint32(out, requestID)
	out = binary.LittleEndian.AppendUint32(out, opMsg)
	out = binary.LittleEndian.AppendUint32(out, 0) // flags
	out = append(out, 0)                           // section kind 0
	return append(out, body...), true
}

// rewriteReply applies rewrite to the document of an OP_MSG reply that is
// not a hello reply (rewriteHello has those).
func rewriteReply(msg []byte, rewrite func(bson.D) bson.D) []byte {
	if len(msg) < 21 || opcode(msg) != opMsg || msg[20] != 0 {
		return msg
	}
	return rewriteDocument(msg, 21, false, rewrite)
}

// flatCommand returns the command of an OP_MSG with its document
// sequences as array fields, as the driver's command monitor shows it:
// {delete: "c", deletes: [...]}.
func flatCommand(msg []byte) (bson.Raw, bool) {
	body, ok := opMsgBody(msg)
	if !ok {
		return nil, false
	}
	names := sequenceNames(msg, len(body))
	if len(names) == 0 {
		return body, true
	}
	var d bson.D
	if bson.Unmarshal(body, &d) != nil {
		return body, true
	}
	for _, name := range names {
		docs := bson.A{}
		for _, doc := range opMsgSequence(msg, name) {
			docs = append(docs, doc)
		}
		d = append(d, bson.E{Key: name, Value: docs})
	}
	out, err := bson.Marshal(d)
	if err != nil {
		return body, true
	}
	return out, true
}

// sequenceNames lists the document sequences of an OP_MSG whose body is
// bodyLen bytes long.
func sequenceNames(msg []byte, bodyLen int) []string {
	var names []string
	for _, s := range opMsgSections(msg, bodyLen) {
		names = append(names, s.name)
	}
	return names
}

type opMsgSection struct {
	name string
	docs []byte
}

// opMsgSections splits the kind 1 sections after the body.
func opMsgSections(msg []byte, bodyLen int) []opMsgSection {
	end := int(binary.LittleEndian.Uint32(msg))
	if binary.LittleEndian.Uint32(msg[16:])&1 != 0 { // checksumPresent
		end -= 4
	}
	var out []opMsgSection
	for rest := msg[21+bodyLen : end]; len(rest) > 5 && rest[0] == 1; {
		size := int(binary.LittleEndian.Uint32(rest[1:]))
		if size < 5 || 1+size > len(rest) {
			return out
		}
		section := rest[5 : 1+size]
		rest = rest[1+size:]
		i := bytes.IndexByte(section, 0)
		if i < 0 {
			return out
		}
		out = append(out, opMsgSection{name: string(section[:i]), docs: section[i+1:]})
	}
	return out
}

// opMsgSequence returns the documents of an OP_MSG's document sequence
// (kind 1 section) called name, such as an insert's "documents".
func opMsgSequence(msg []byte, name string) []bson.Raw {
	body, ok := opMsgBody(msg)
	if !ok {
		return nil
	}
	var docs []bson.Raw
	for _, s := range opMsgSections(msg, len(body)) {
		if s.name != name {
			continue
		}
		for seq := s.docs; len(seq) >= 5; {
			n := int(binary.LittleEndian.Uint32(seq))
			if n < 5 || n > len(seq) {
				break
			}
			docs = append(docs, bson.Raw(seq[:n]))
			seq = seq[n:]
		}
	}
	return docs
}

// rewriteRequest replaces the command document of an OP_MSG if rewrite
// says so, keeping its other sections (document sequences).
func rewriteRequest(msg []byte, rewrite func(bson.Raw) (bson.Raw, bool)) []byte {
	cmd, ok := opMsgBody(msg)
	if !ok {
		return msg
	}
	changed, ok := rewrite(cmd)
	if !ok {
		return msg
	}
	out := append([]byte(nil), msg[:21]...)
	out = append(out, changed...)
	out = append(out, msg[21+len(cmd):]...)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out
}

// without returns cmd without the named fields.
func without(cmd bson.Raw, names ...string) bson.Raw {
	elems, _ := cmd.Elements()
	var d bson.D
	for _, e := range elems {
		keep := true
		for _, n := range names {
			keep = keep && e.Key() != n
		}
		if keep {
			d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	out, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return out
}

// rewriteHello applies rewrite to a hello or legacy isMaster reply, in an
// OP_MSG or an OP_REPLY (the driver's first handshake is OP_QUERY). Other
// messages pass unchanged.
func rewriteHello(msg []byte, rewrite func(bson.D) bson.D) []byte {
	var prefix int
	switch opcode(msg) {
	case opMsg:
		if len(msg) < 21 || msg[20] != 0 {
			return msg
		}
		prefix = 21
	case opReply:
		if len(msg) < 36 || binary.LittleEndian.Uint32(msg[32:]) != 1 {
			return msg
		}
		prefix = 36
	default:
		return msg
	}
	return rewriteDocument(msg, prefix, true, rewrite)
}

// rewriteDocument applies rewrite to the document at msg[prefix:] if it is
// a hello reply (one with maxWireVersion) or, with hello false, if it is
// not; what follows the document is kept.
func rewriteDocument(msg []byte, prefix int, hello bool, rewrite func(bson.D) bson.D) []byte {
	doc := bson.Raw(msg[prefix:])
	if len(doc) < 5 || int(binary.LittleEndian.Uint32(doc)) > len(doc) {
		return msg
	}
	doc = doc[:binary.LittleEndian.Uint32(doc)]
	if doc.Validate() != nil {
		return msg
	}
	if _, err := doc.LookupErr("maxWireVersion"); (err == nil) != hello {
		return msg
	}
	var d bson.D
	if bson.Unmarshal(doc, &d) != nil {
		return msg
	}
	body, err := bson.Marshal(rewrite(d))
	if err != nil {
		panic(err)
	}
	out := append([]byte(nil), msg[:prefix]...)
	out = append(out, body...)
	out = append(out, msg[prefix+len(doc):]...)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out
}

// setField sets key in d, replacing an existing field of that name.
func setField(d bson.D, key string, value any) bson.D {
	for i := range d {
		if d[i].Key == key {
			d[i].Value = value
			return d
		}
	}
	return append(d, bson.E{Key: key, Value: value})
}

// removeField returns d without key.
func removeField(d bson.D, key string) bson.D {
	out := bson.D{}
	for _, e := range d {
		if e.Key != key {
			out = append(out, e)
		}
	}
	return out
}

// asReplicaSet makes a hello reply claim membership of replica set rs0.
func asReplicaSet(_ bson.Raw, reply bson.D) bson.D { return setField(reply, "setName", "rs0") }

// emptyCursor is the reply of a find or aggregate that found nothing.
func emptyCursor(cmd bson.Raw) bson.D {
	name := commandName(cmd)
	coll, _ := cmd.Lookup(name).StringValueOK()
	db, _ := cmd.Lookup("$db").StringValueOK()
	return bson.D{{Key: "cursor", Value: bson.D{
		{Key: "firstBatch", Value: bson.A{}}, {Key: "id", Value: int64(0)}, {Key: "ns", Value: db + "." + coll},
	}}, {Key: "ok", Value: 1.0}}
}

// commandName is the first key of a command document.
func commandName(cmd bson.Raw) string {
	elems, err := cmd.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	return elems[0].Key()
}

// inTransaction reports whether a command belongs to a transaction (the
// driver marks every such command with autocommit: false).
func inTransaction(cmd bson.Raw) bool {
	v, err := cmd.LookupErr("autocommit")
	return err == nil && v.Type == bson.TypeBoolean && !v.Boolean()
}

// commitsTransactions answers the commands of transactions the way a
// replica set would after applying them: every statement succeeds and
// commits. (Their writes are not applied: tests using it look at what the
// driver sends, not at data.)
func commitsTransactions(cmd bson.Raw) (bson.D, bool) {
	switch name := commandName(cmd); {
	case name == "commitTransaction" || name == "abortTransaction":
		return bson.D{{Key: "ok", Value: 1.0}}, true
	case !inTransaction(cmd):
		return nil, false
	case name == "find" || name == "aggregate":
		return emptyCursor(cmd), true
	default: // insert, update, delete
		return bson.D{{Key: "n", Value: int32(1)}, {Key: "ok", Value: 1.0}}, true
	}
}

// serverError is the reply of a failed command.
func serverError(code int32, codeName string, labels ...string) bson.D {
	reply := bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "injected by wireProxy: " + codeName}, {Key: "code", Value: code}, {Key: "codeName", Value: codeName}}
	if len(labels) > 0 {
		reply = append(reply, bson.E{Key: "errorLabels", Value: labels})
	}
	return reply
}

// commandLog records the commands a client starts.
type commandLog struct {
	mu   sync.Mutex
	cmds []bson.Raw
}

func (l *commandLog) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Started: func(_ context.Context, e *event.CommandStartedEvent) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.cmds = append(l.cmds, append(bson.Raw(nil), e.Command...))
	}}
}

// named returns the logged commands with one of the names, in order.
func (l *commandLog) named(names ...string) []bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bson.Raw
	for _, c := range l.cmds {
		for _, n := range names {
			if commandName(c) == n {
				out = append(out, c)
			}
		}
	}
	return out
}

func (l *commandLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = nil
}

// since returns the commands sent after the first n.
func (l *commandLog) since(n int) []bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]bson.Raw(nil), l.cmds[n:]...)
}

// count is the number of commands logged so far.
func (l *commandLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.cmds)
}

// assertNewFailsByItsDeadline: New, given half a second, fails by its
// deadline while the proxy holds an answer back for two seconds.
func assertNewFailsByItsDeadline(t *testing.T, db *mongo.Database) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx(t), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := mongoauth.New(c, db, mongoauth.Options{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

// skipUnlessFerretDB skips a test that needs the embedded FerretDB v1's own
// answers (no transactions, no $lookup).
func skipUnlessFerretDB(t *testing.T) {
	t.Helper()
	if srv := mongotest.Shared(t); srv.Kind != mongotest.KindFerretDB {
		t.Skip("needs the embedded FerretDB v1's own answers; the server is " + srv.Description())
	}
}
