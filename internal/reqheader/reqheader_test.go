package reqheader_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/tether-go/tether/internal/reqheader"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSpellingsAreMerged: a header given under two spellings is sent with
// every value (one spelling's values were lost, whichever the map gave
// last), in an order that does not change from dial to dial.
func TestSpellingsAreMerged(t *testing.T) {
	for range 20 {
		out, host, anonymous := reqheader.Build(http.Header{
			"x-token": {"b"},
			"X-Token": {"a"},
			"X-TOKEN": {"c"},
			"host":    {"feed.example"},
			"Upgrade": {"h2c"},
		}, func(k string) bool { return k == "Upgrade" })
		assert.Equal(t, http.Header{"X-Token": {"c", "a", "b"}}, out)
		assert.Equal(t, "feed.example", host)
		assert.False(t, anonymous)
	}
}

// TestAnEmptyAuthorizationMeansNone: an Authorization with no value but
// empty ones is not sent, and says so, so that the URL's userinfo is not
// sent in its place; one with a value is kept.
func TestAnEmptyAuthorizationMeansNone(t *testing.T) {
	out, _, anonymous := reqheader.Build(http.Header{"authorization": {""}, "Authorization": {}}, nil)
	assert.Empty(t, out)
	assert.True(t, anonymous)
	out, _, anonymous = reqheader.Build(http.Header{"Authorization": {"", "Bearer t"}}, nil)
	assert.Equal(t, []string{"Bearer t"}, out["Authorization"])
	assert.False(t, anonymous)
	// The empty one in one spelling, the token in another: the token is
	// the first value (an outside review: the URL's password went out in
	// its place, the transport reading "" with Get).
	out, _, anonymous = reqheader.Build(http.Header{"Authorization": {""}, "authorization": {"Bearer x"}}, nil)
	assert.Equal(t, "Bearer x", out.Get("Authorization"))
	assert.False(t, anonymous)
}
