package inspect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/inspect"
)

// Mount the inspector on a program's own server, beside its other
// handlers, and add the clients to watch. Here the page's JSON snapshot is
// read instead of opening a browser.
func Example() {
	c, err := tether.New[string]("wss://feed.example/live?token=secret", tether.WithAutoConnect(false))
	if err != nil {
		panic(err)
	}
	defer c.Close(context.Background())

	in := inspect.New()
	in.Add("wss://feed.example/live?token=secret", c)
	mux := http.NewServeMux()
	mux.Handle("/inspect/", http.StripPrefix("/inspect", in))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/inspect/snapshot.json")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var snap inspect.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		panic(err)
	}
	for _, cv := range snap.Clients {
		fmt.Println(cv.Name, cv.Stats.State)
	}
	// Output:
	// wss://feed.example/live?token=REDACTED Idle
}
