package main

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth"
)

// TestHelpListsOwnFlags: -h shows authbench's flags, not the test flags
// that testing.Init registers for testing.Benchmark (this test binary has
// them registered, as authbench does once it runs).
func TestHelpListsOwnFlags(t *testing.T) {
	var out bytes.Buffer
	_, err := parseFlags([]string{"-h"}, &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	require.NotNil(t, flag.CommandLine.Lookup("test.benchtime"), "the test flags exist in this process")
	for _, own := range []string{"-benchtime", "-count", "-run", "-others", "-read-path"} {
		assert.Contains(t, out.String(), own)
	}
	assert.NotContains(t, out.String(), "test.")
}

func TestReadPathFlag(t *testing.T) {
	for arg, want := range map[string]mongoauth.ReadPath{"auto": mongoauth.ReadPathAuto, "lookup": mongoauth.ReadPathLookup, "two-reads": mongoauth.ReadPathTwoReads} {
		cfg, err := parseFlags([]string{"-read-path", arg}, &bytes.Buffer{})
		require.NoError(t, err)
		assert.Equal(t, want, cfg.readPath, arg)
	}
	cfg, err := parseFlags(nil, &bytes.Buffer{})
	require.NoError(t, err)
	assert.Equal(t, mongoauth.ReadPathAuto, cfg.readPath, "the default")

	var out bytes.Buffer
	_, err = parseFlags([]string{"-read-path", "twice"}, &out)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "want auto, lookup or two-reads")
	_, err = parseFlags([]string{"-count", "0"}, &out)
	assert.ErrorContains(t, err, "-count")
	_, err = parseFlags([]string{"extra"}, &out)
	assert.True(t, err != nil && !errors.Is(err, flag.ErrHelp) && strings.Contains(err.Error(), "extra"))
}
