package recovery_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/luciago/mongoauth/auth"
	"github.com/luciago/mongoauth/recovery"
)

func TestNewRefusesIncompleteConfig(t *testing.T) {
	f := newFixture(t, openSQLite(t))
	link := func(recovery.Purpose, string) string { return "" }
	for name, c := range map[string]recovery.Config{
		"no sender":       {Link: link},
		"no link":         {Sender: f.mail},
		"negative expiry": {Sender: f.mail, Link: link, ResetExpiry: -1},
		"provider with :": {Sender: f.mail, Link: link, EmailProvider: "e:mail"},
	} {
		_, err := recovery.New(f.a, c)
		assert.Error(t, err, name)
	}
	_, err := recovery.New[profile](nil, recovery.Config{Sender: f.mail, Link: link})
	assert.Error(t, err)
}

func TestNormalizeAddress(t *testing.T) {
	got, err := recovery.NormalizeAddress("  Ann.Lee@Example.COM ")
	require.NoError(t, err)
	assert.Equal(t, "ann.lee@example.com", got)
	var input *auth.InputError
	for _, bad := range []string{"", "ann", "Ann <ann@example.com>", "ann@example.com, bob@example.com", "<ann@example.com>"} {
		_, err := recovery.NormalizeAddress(bad)
		require.ErrorAs(t, err, &input, "%q", bad)
	}
}

// TestForgotPasswordChecksOrigin: a cross-site form post is refused before
// anything is counted or sent (login CSRF's cousin: mail bombing from
// another site's page).
func TestForgotPasswordChecksOrigin(t *testing.T) {
	f := newFixture(t, openSQLite(t))
	f.user("quin", "quin@example.com")
	r := httptestPost(f, "/forgot")
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	require.ErrorIs(t, f.flow.ForgotPassword(r, "quin@example.com"), auth.ErrInvalidRequest)
	assert.Empty(t, f.mailTo("quin@example.com"))
}
