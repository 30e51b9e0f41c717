package transport_test

import (
	"fmt"

	"github.com/tether-go/tether/transport"
)

func ExampleRedactURL() {
	fmt.Println(transport.RedactURL("wss://alice:pw@feed.example/live?room=7&access_token=eyJhbGc"))
	// A password with a '/' makes the URL ambiguous: only the scheme is kept.
	fmt.Println(transport.RedactURL("wss://alice:pa/ss@feed.example/live"))
	// Output:
	// wss://REDACTED@feed.example/live?room=7&access_token=REDACTED
	// wss://REDACTED
}
