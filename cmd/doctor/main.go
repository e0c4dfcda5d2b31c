// Command doctor checks a mongoauth store and, with -fix, repairs what is
// safe to repair while the application runs.
//
// Usage:
//
//	MONGODB_URI=mongodb://host/app doctor [-db app] [-fix] [flags]
//
// It reads the connection string from MONGODB_URI only, never from a flag,
// so that a password does not show in the process list or shell history, and
// it never prints the URI. It first prints what mongoauth.New found out:
// whether multi-document writes use transactions or the standalone
// protocol, and how sessions are read, each with New's reason, then the
// read paths timed once more by Adapter.Recalibrate (New may have timed
// them before any session was stored). Then it prints what mongoauth's
// Check reports: missing or conflicting indexes, orphan and expired
// sessions and keys, and documents the adapter cannot read. With -fix it runs Repair (create
// missing indexes, delete orphans and expired records), prints what changed,
// and checks again.
//
// A database that holds none of the three collections (one that does not
// exist, most likely a mistyped -db) is refused as a usage error, and -fix
// creates nothing there. Session ids are bearer secrets: reports show a
// session as its first six characters and a short SHA-256 digest of its id
// (see mongoauth.Finding).
//
// Exit status: 0 when no problem is left, 1 when problems remain (after -fix:
// what Repair may not fix, such as a conflicting index or an unreadable
// document, or what the application wrote meanwhile), 2 on a usage or
// database error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/connstring"

	"github.com/luciago/mongoauth"
)

// Exit statuses.
const (
	exitClean    = 0
	exitProblems = 1
	exitError    = 2
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// config is what the flags and the environment say.
type config struct {
	uri      string
	database string
	options  mongoauth.Options
	fix      bool
	repair   mongoauth.RepairOptions
	timeout  time.Duration
}

func parse(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: MONGODB_URI=mongodb://... doctor [flags]")
		fmt.Fprintln(stderr, "Checks a mongoauth store; with -fix repairs what is safe. Exit status: 0 clean, 1 problems remain, 2 error.")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.database, "db", "", "database name (default: the database named in MONGODB_URI)")
	fs.StringVar(&c.options.UserCollection, "users", mongoauth.DefaultUserCollection, "users collection")
	fs.StringVar(&c.options.SessionCollection, "sessions", mongoauth.DefaultSessionCollection, "sessions collection")
	fs.StringVar(&c.options.KeyCollection, "keys", mongoauth.DefaultKeyCollection, "keys collection")
	fs.StringVar(&c.options.ThrottleCollection, "throttle", "", "the application keeps its login throttle in this collection (mongoauth.Adapter.ThrottleStore): check its TTL index and healed records")
	fs.BoolVar(&c.options.SessionTTL, "session-ttl", false, "the application runs with Options.SessionTTL: check (and with -fix create) the TTL index")
	fs.BoolVar(&c.fix, "fix", false, "create missing indexes, delete orphan and expired sessions and keys")
	fs.DurationVar(&c.repair.OrphanGrace, "grace", mongoauth.DefaultOrphanGrace, "with -fix: wait this long before deleting orphans, for writes in flight; 0 deletes at once (only when the application is stopped)")
	fs.IntVar(&c.repair.SampleSize, "sample", mongoauth.DefaultSampleSize, "ids shown per finding")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if c.repair.OrphanGrace <= 0 {
		c.repair.OrphanGrace = -1 // RepairOptions: negative skips the wait
	}
	c.uri = getenv("MONGODB_URI")
	if c.uri == "" {
		return c, errors.New("MONGODB_URI is not set")
	}
	if c.database == "" {
		cs, err := connstring.Parse(c.uri)
		if err != nil {
			return c, errors.New("MONGODB_URI is not a valid connection string")
		}
		if c.database = cs.Database; c.database == "" {
			return c, errors.New("no database: name one with -db or in MONGODB_URI")
		}
	}
	return c, nil
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := parse(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitClean
	}
	if err != nil {
		fmt.Fprintln(stderr, "doctor:", err)
		return exitError
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	status, err := doctor(ctx, c, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "doctor:", err)
		return exitError
	}
	return status
}

func doctor(ctx context.Context, c config, out io.Writer) (int, error) {
	client, err := mongo.Connect(options.Client().ApplyURI(c.uri))
	if err != nil {
		return exitError, err
	}
	defer client.Disconnect(context.WithoutCancel(ctx))
	db := client.Database(c.database)
	// Before New: on a replica set New creates the collections it probes
	// transactions with.
	if err := checkDatabase(ctx, db, c.options); err != nil {
		return exitError, err
	}
	adapter, err := mongoauth.New(ctx, db, c.options)
	if err != nil {
		return exitError, err
	}
	fmt.Fprintf(out, "mongoauth doctor: database %q, collections %s, %s, %s\n",
		c.database, c.options.UserCollection, c.options.SessionCollection, c.options.KeyCollection)
	writes := "standalone protocol"
	if adapter.UsesTransactions() {
		writes = "transactions"
	}
	fmt.Fprintf(out, "multi-document writes: %s (%s)\nsession reads: %s (%s)\n",
		writes, adapter.TransactionsReason(), adapter.ReadPath(), adapter.ReadPathReason())
	// New timed the read paths on an empty collection if no session was
	// stored then; now there may be one, and a second timing shows how
	// steady the first was.
	calibration, err := adapter.Recalibrate(ctx)
	if err != nil {
		return exitError, err
	}
	fmt.Fprintf(out, "session reads timed again (Recalibrate): %s\n", calibration.Reason)

	if !c.fix {
		report, err := adapter.Check(ctx, c.repair)
		if err != nil {
			return exitError, err
		}
		printReport(out, &report, false)
		return verdict(out, report.Problems(), "problems"), nil
	}
	report, err := adapter.Repair(ctx, c.repair)
	printReport(out, &report, true) // also what a failed repair did
	if err != nil {
		return exitError, err
	}
	after, err := adapter.Check(ctx, c.repair)
	if err != nil {
		return exitError, err
	}
	fmt.Fprintln(out, "\nafter repair:")
	printReport(out, &after, false)
	return verdict(out, after.Problems(), "problems remain"), nil
}

// checkDatabase refuses a database that holds none of the adapter's
// collections: it does not exist (MongoDB creates a database with its first
// collection) or is not the application's, and either way -db or a
// collection flag is mistyped. Checking it would report nothing, and -fix
// would create the database and the collections with their indexes.
func checkDatabase(ctx context.Context, db *mongo.Database, opts mongoauth.Options) error {
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return err
	}
	ours := []string{opts.UserCollection, opts.SessionCollection, opts.KeyCollection}
	for _, name := range names {
		if slices.Contains(ours, name) {
			return nil
		}
	}
	msg := fmt.Sprintf("database %q does not exist, or holds none of the collections %s", db.Name(), strings.Join(ours, ", "))
	if len(names) > 0 {
		slices.Sort(names)
		if len(names) > 10 {
			names = append(names[:10], "...")
		}
		msg += " (it has: " + strings.Join(names, ", ") + ")"
	}
	return errors.New(msg + "; check -db and the collection flags")
}

func verdict(out io.Writer, problems int, what string) int {
	if problems == 0 {
		fmt.Fprintln(out, "no problems")
		return exitClean
	}
	fmt.Fprintf(out, "%d %s\n", problems, what)
	return exitProblems
}

func printReport(out io.Writer, r *mongoauth.Report, repaired bool) {
	fmt.Fprintf(out, "scanned %d users, %d sessions, %d keys; expiry judged at %s\n",
		r.Scanned.Users, r.Scanned.Sessions, r.Scanned.Keys, r.Now.UTC().Format(time.RFC3339))
	for _, line := range []struct {
		label string
		names []string
	}{
		{"index ok", r.Indexes.Existing},
		{"index missing", r.Indexes.Missing},
		{"index created", r.Indexes.Created},
		{"index unsupported", r.Indexes.Unsupported},
	} {
		for _, name := range line.names {
			fmt.Fprintf(out, "  %-18s %s\n", line.label, name)
		}
	}
	for _, name := range r.Indexes.Unsupported {
		if strings.HasSuffix(name, "."+mongoauth.SessionTTLIndex) {
			fmt.Fprintln(out, "    (the server has no TTL indexes: run doctor -fix or Repair periodically to remove dead sessions)")
		}
	}
	for _, conflict := range r.Indexes.Conflicts {
		fmt.Fprintf(out, "  %-18s %s.%s: %s (not changed: fix by hand)\n", "index conflict", conflict.Collection, conflict.Index, conflict.Reason)
	}
	for _, f := range []struct {
		label string
		f     mongoauth.Finding
	}{
		{"orphan sessions", r.OrphanSessions},
		{"orphan keys", r.OrphanKeys},
		{"expired sessions", r.ExpiredSessions},
		{"expired keys", r.ExpiredKeys},
		{"healed throttle", r.ExpiredThrottleRecords},
	} {
		if f.f.Found == 0 {
			continue
		}
		fmt.Fprintf(out, "  %-18s %d", f.label, f.f.Found)
		if repaired {
			fmt.Fprintf(out, ", deleted %d", f.f.Deleted)
		}
		fmt.Fprintf(out, "  e.g. %s\n", strings.Join(f.f.Sample, ", "))
	}
	if r.Unreadable.Found > 0 {
		fmt.Fprintf(out, "  %-18s %d (reported, never deleted: fix or remove by hand)\n", "unreadable", r.Unreadable.Found)
		for _, de := range r.Unreadable.Sample {
			fmt.Fprintf(out, "    %s\n", strings.TrimPrefix(de.Error(), "mongoauth: "))
		}
	}
}
