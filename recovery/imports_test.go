package recovery_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestImportsStayLean: package recovery needs only the standard library,
// golang.org/x and package auth; the mail library comes in only with
// recovery/smtp.
func TestImportsStayLean(t *testing.T) {
	for pkg, allowed := range map[string][]string{
		"github.com/luciago/mongoauth/recovery":      {"golang.org/x/", "github.com/luciago/mongoauth/auth", "github.com/luciago/mongoauth/recovery"},
		"github.com/luciago/mongoauth/recovery/smtp": {"golang.org/x/", "github.com/luciago/mongoauth/auth", "github.com/luciago/mongoauth/recovery", "github.com/wneessen/go-mail"},
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
		require.NoError(t, err, "go list")
		for dep := range strings.FieldsSeq(string(out)) {
			ok := false
			for _, prefix := range allowed {
				ok = ok || strings.HasPrefix(dep, prefix)
			}
			require.True(t, ok, "%s imports %s", pkg, dep)
		}
	}
}
