package mongoauth_test

import (
	"os"
	"strings"
	"testing"

	"github.com/luciago/mongoauth/internal/readme"
)

// readmeSources are the compiled files the README's Go blocks come from:
// the examples, which go test runs with their output checked, and the
// Quick start program, which examples/quickstart builds and drives.
var readmeSources = []string{"example_test.go", "examples/quickstart/main.go"}

// TestReadmeGoBlocksAreCompiled: every ```go block of README.md appears,
// white space aside, in one of readmeSources, so that a README that drifts
// from the API fails here rather than in a reader's editor.
func TestReadmeGoBlocksAreCompiled(t *testing.T) {
	blocks, err := readme.GoBlocks("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go blocks: has the fence changed?")
	}
	var sources []string
	for _, name := range readmeSources {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, readme.Normalize(string(b)))
	}
	for _, b := range blocks {
		code := readme.Normalize(b.Code)
		found := false
		for _, src := range sources {
			found = found || strings.Contains(src, code)
		}
		if !found {
			first, _, _ := strings.Cut(strings.TrimSpace(b.Code), "\n")
			t.Errorf("README.md:%d, the ```go block under %q (starting %q), appears in none of %v: copy it from there, or put it there first, in an example with // Output:",
				b.Line, b.Section, first, readmeSources)
		}
	}
}

// TestReadmeSize: the README stays a front door; reference depth belongs
// in godoc.
func TestReadmeSize(t *testing.T) {
	const limit = 45208
	info, err := os.Stat("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > limit {
		t.Errorf("README.md is %d bytes, over %d: move reference depth to godoc", info.Size(), limit)
	}
}

// TestReadmeTestCommandIsCI: the test command the README gives a newcomer
// is the one CI (.ci/run) runs, with the race detector.
func TestReadmeTestCommandIsCI(t *testing.T) {
	text, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	const readmeCommand, ciCommand = "\ngo test ./...", "\ngo test -race ./...\n"
	if !strings.Contains(string(text), readmeCommand) {
		t.Errorf("README.md no longer gives %q as its test command", strings.TrimSpace(readmeCommand))
	}
	if !strings.Contains(string(ci), ciCommand) {
		t.Errorf(".ci/run does not run the README's test command with the race detector, %q", strings.TrimSpace(ciCommand))
	}
}
