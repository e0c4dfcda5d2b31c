package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestServesUntilInterrupted: devdb prints a URI that a client can use,
// keeps the data in -data, and stops on SIGTERM.
func TestServesUntilInterrupted(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- run([]string{"-addr", "127.0.0.1:0", "-data", data}, &stdout, &stderr) }()
	var uri string
	for deadline := time.Now().Add(time.Minute); uri == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if line, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			uri = strings.TrimPrefix(line, "MONGODB_URI=")
		}
	}
	if uri == "" {
		t.Fatalf("no URI printed; stderr: %s", stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	if _, err := client.Database("app").Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatalf("insert through %s: %v", uri, err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Errorf("no data directory: %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit status %d; stderr: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devdb did not stop on SIGTERM")
	}
}

func TestRefusesAnUnusableAddress(t *testing.T) {
	var stdout, stderr syncBuffer
	if code := run([]string{"-addr", "256.0.0.1:1", "-data", t.TempDir()}, &stdout, &stderr); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if !strings.HasPrefix(stderr.String(), "devdb: ") {
		t.Errorf("stderr %q", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
