package mongoauth_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsumerGoLine: a module that imports the library and runs go mod
// tidy keeps the go line its other requirements need. The library's go
// line is the highest one among the modules it requires (today
// golang.org/x's 1.26.0), not the patch release of whichever toolchain last
// edited go.mod: a consumer's go line can never be below a dependency's.
func TestConsumerGoLine(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy in a scratch module")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command: " + err.Error())
	}
	root, err := filepath.Abs(".")
	require.NoError(t, err)
	goLine := func(dir string) string {
		t.Helper()
		out, err := run(dir, goTool, "mod", "edit", "-json")
		require.NoError(t, err, out)
		var mod struct{ Go string }
		require.NoError(t, json.Unmarshal([]byte(out), &mod))
		return mod.Go
	}
	ours := goLine(root)

	// The highest go line among the modules the library's own packages
	// come from: what a consumer inherits.
	out, err := run(root, goTool, "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.GoVersion}}{{end}}{{end}}", ".", "./auth")
	require.NoError(t, err, out)
	needed := "1.0"
	for _, v := range strings.Fields(out) {
		if goVersionLess(needed, v) {
			needed = v
		}
	}
	assert.False(t, goVersionLess(ours, needed) || goVersionLess(needed, ours), "go.mod's go line %s is what the dependencies need, %s", ours, needed)

	consumer := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(consumer, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/consumer\n\ngo 1.25.0\n\nrequire github.com/luciago/mongoauth v0.0.0\n\nreplace github.com/luciago/mongoauth => "+root+"\n")
	write("main.go", "package main\n\nimport (\n\t\"github.com/luciago/mongoauth\"\n\t\"github.com/luciago/mongoauth/auth\"\n)\n\nvar _, _ = mongoauth.New, auth.ErrNotFound\n\nfunc main() {}\n")
	sums, err := os.ReadFile(filepath.Join(root, "go.sum")) // the checksums a sum database would give
	require.NoError(t, err)
	write("go.sum", string(sums))
	if out, err := run(consumer, goTool, "mod", "tidy"); err != nil {
		if strings.Contains(out, "dial tcp") || strings.Contains(out, "no such host") {
			t.Skip("go mod tidy needs modules that are neither in the module cache nor reachable: " + out)
		}
		t.Fatalf("go mod tidy: %v\n%s", err, out)
	}
	theirs := goLine(consumer)
	assert.False(t, goVersionLess(theirs, needed) || goVersionLess(needed, theirs), "go mod tidy raised the consumer's go line from 1.25.0 to %s; the dependencies need %s", theirs, needed)
}

// goVersionLess compares go lines such as 1.25 and 1.26.0 by their numbers.
func goVersionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := range max(len(as), len(bs)) {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func run(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
