// Package readme reads the Go code blocks of README.md, for the tests that
// keep them compiled: each block must appear in a source file that a test
// builds (see readme_test.go at the module root), and the Quick start's is
// built as a program of its own (examples/quickstart).
package readme

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Block is one ```go fenced block.
type Block struct {
	// Section is the title of the nearest heading above the block, without
	// the #s.
	Section string
	// Line is the line number of the opening fence.
	Line int
	// Code is the block's text, each line ending in a newline.
	Code string
}

// GoBlocks returns the ```go blocks of the Markdown file at path, in order.
// An unterminated block is an error.
func GoBlocks(path string) ([]Block, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("readme: %w", err)
	}
	defer f.Close()
	var (
		blocks  []Block
		section string
		cur     *Block
		fenced  bool // inside a fenced block of another language
		code    strings.Builder
	)
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := s.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.Code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line + "\n")
		case strings.HasPrefix(line, "```"):
			if strings.TrimSpace(strings.TrimPrefix(line, "```")) == "go" && !fenced {
				cur = &Block{Section: section, Line: n}
				code.Reset()
			} else {
				fenced = !fenced
			}
		case !fenced && strings.HasPrefix(line, "#"):
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("readme: %s: %w", path, err)
	}
	if cur != nil {
		return nil, fmt.Errorf("readme: %s:%d: the ```go block is not closed", path, cur.Line)
	}
	return blocks, nil
}

// Normalize collapses every run of white space to one space and trims the
// ends, so that a block matches its source whatever the indentation.
func Normalize(code string) string {
	return strings.Join(strings.Fields(code), " ")
}
