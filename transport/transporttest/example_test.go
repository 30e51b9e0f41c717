package transporttest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tether-go/tether/transport"
	"github.com/tether-go/tether/transport/transporttest"
)

// authed is the transport under test: it adds a bearer token to every
// dial, and leaves the rest to the transport it wraps.
type authed struct {
	transport.Transport
	token string
}

func (a authed) Dial(ctx context.Context, target transport.Target) (transport.Conn, error) {
	target.Header = target.Header.Clone()
	if target.Header == nil {
		target.Header = http.Header{}
	}
	target.Header.Set("Authorization", "Bearer "+a.token)
	return a.Transport.Dial(ctx, target)
}

// newAuthedHarness tests authed over the memory transport. A transport of
// its own, with its own server, builds a Harness field by field instead
// (see Harness).
func newAuthedHarness(t *testing.T) transporttest.Harness {
	return transporttest.MemoryHarness(t, func(tr transport.Transport) transport.Transport {
		return authed{Transport: tr, token: "secret"}
	})
}

// A transport's own tests run the suite with a Harness; here, a decorator
// that adds credentials to every dial, over the memory transport. The test
// that goes with this example, in the transport's package, is
//
//	func TestConformance(t *testing.T) {
//		transporttest.Run(t, newAuthedHarness)
//	}
//
// and go test -race runs each check as a subtest:
// TestConformance/RoundTrip, TestConformance/PeerClose, and so on.
func Example() {}
