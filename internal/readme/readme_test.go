package readme

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGoBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	text := "# Title\n\n## Quick start\n\n```go\nfunc main() {\n\tx := 1\n}\n```\n\n```sh\n# not a heading\n```\n\n### Next\n```go\ny()\n```\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	blocks, err := GoBlocks(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []Block{{"Quick start", 5, "func main() {\n\tx := 1\n}\n"}, {"Next", 16, "y()\n"}}
	if len(blocks) != len(want) {
		t.Fatalf("got %d blocks %+v, want %d", len(blocks), blocks, len(want))
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d: got %+v, want %+v", i, blocks[i], want[i])
		}
	}
	if got := Normalize("a  :=\n\t1 // b\n"); got != "a := 1 // b" {
		t.Errorf("Normalize: %q", got)
	}
	if err := os.WriteFile(path, []byte("```go\nx\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := GoBlocks(path); err == nil {
		t.Error("an unclosed block is no error")
	}
}
