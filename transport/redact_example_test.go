package transport_test

import (
	"fmt"

	"github.com/tether-go/tether/transport"
)

func ExampleRedactURL() {
	fmt.Println(transport.RedactURL("wss://alice:pw@feed.example/live?room=7&access_token=eyJhbGc"))
	// Output: wss://REDACTED@feed.example/live?room=7&access_token=REDACTED
}
