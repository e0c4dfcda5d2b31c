package ferretdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestStartKeepsDataInDir writes through one server, stops it, and reads
// the document back through a second server on the same directory, which
// does not exist at first and has spaces in its name.
func TestStartKeepsDataInDir(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "my data 1")

	withCollection := func(f func(*mongo.Collection)) {
		uri, stop, err := Start(ctx, dir)
		require.NoError(t, err)
		defer stop()
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		require.NoError(t, err)
		defer client.Disconnect(ctx)
		f(client.Database("test").Collection("things"))
	}
	withCollection(func(c *mongo.Collection) {
		_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "kept"}})
		require.NoError(t, err)
	})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "FerretDB wrote its files into dir")
	withCollection(func(c *mongo.Collection) {
		n, err := c.CountDocuments(ctx, bson.D{{Key: "_id", Value: "kept"}})
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})
}

func TestStartRefusesUnusableDirs(t *testing.T) {
	_, _, err := Start(context.Background(), "")
	require.EqualError(t, err, "ferretdb: no data directory")
	for _, name := range []string{"a#b", "a?b", "50%"} {
		dir := filepath.Join(t.TempDir(), name)
		_, _, err := Start(context.Background(), dir)
		require.ErrorContains(t, err, "FerretDB cannot use a path with '#', '?' or '%'", name)
		require.NoDirExists(t, dir, "nothing is created for a refused directory")
	}
}
