package transport_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tether-go/tether/transport"
)

func TestRedactURL(t *testing.T) {
	cases := []struct {
		in   string
		want string
	}{
		{
			in:   "wss://feed.example/stream",
			want: "wss://feed.example/stream",
		},
		{
			in:   "wss://alice:pw@feed.example/stream",
			want: "wss://REDACTED@feed.example/stream",
		},
		{
			in:   "wss://tok123@feed.example/",
			want: "wss://REDACTED@feed.example/",
		},
		{
			in:   "wss://feed.example/s?room=7&token=abc&Access_Token=def&api_key=k&key=k2&X-Amz-Signature=s&keep=1",
			want: "wss://feed.example/s?room=7&token=REDACTED&Access_Token=REDACTED&api_key=REDACTED&key=REDACTED&X-Amz-Signature=REDACTED&keep=1",
		},
		{
			in:   "https://feed.example/cb#access_token=abc&state=x",
			want: "https://feed.example/cb#access_token=REDACTED&state=x",
		},
		{
			in:   "wss://feed.example/s?token",
			want: "wss://feed.example/s?token",
		},
		{
			in:   "wss://feed.example/s?%74oken=abc",
			want: "wss://feed.example/s?%74oken=REDACTED",
		},
		{
			in:   "/relative?secret=1",
			want: "/relative?secret=REDACTED",
		},
		{
			in:   "ws://user:pw@[::1/?key=abc",
			want: "ws://REDACTED@[::1/?REDACTED",
		},
		{
			in:   "",
			want: "",
		},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.want, transport.RedactURL(tc.in))
		})
	}
}

func TestRedactURLNeverLeaks(t *testing.T) {
	for _, in := range []string{
		"ws://u:SECRET@h/?token=SECRET",
		"ws://u:SECRET@h:bad/?token=SECRET",
		"ws://SECRET@h",
		"%zz://u:SECRET@h/?token=SECRET",
		"ws://h/?signature=SECRET#password=SECRET",
	} {
		assert.False(t, strings.Contains(transport.RedactURL(in), "SECRET"), "%q -> %q", in, transport.RedactURL(in))
	}
}

func TestSecretParam(t *testing.T) {
	for _, name := range []string{"token", "ACCESS_TOKEN", "id_token", "key", "apiKey", "signature", "X-Goog-Signature", "client_secret", "password", "auth", "sig", "jwt"} {
		assert.True(t, transport.SecretParam(name), name)
	}
	for _, name := range []string{"room", "page", "keyboard", "q", "limit"} {
		assert.False(t, transport.SecretParam(name), name)
	}
}
