// Package inspect is a live view of tether clients in a web browser: an
// http.Handler that a program mounts to watch its connections as they
// change.
//
// The page shows, for every client added with [Inspector.Add]:
//
//   - the client's lifecycle diagram, drawn from the table it runs
//     (Client.Lifecycle, with its application stages, see [DiagramOf]),
//     with the current state and the last transition taken highlighted;
//   - the timeline of transitions with their causes, close codes and
//     attempts, the reconnect scheduled while the client waits, and the
//     schedule after it (tether.Stats.Ahead: the next attempts, each random
//     delay as the interval it will be drawn from);
//   - the heartbeat round trip, the messages and bytes in and out, the drops
//     and the reconnects, as numbers and small charts.
//
// Updates are pushed to the page with server-sent events; the page never
// polls. Everything it loads (HTML, script, style) is embedded in the
// binary and served by the handler, under a Content-Security-Policy that
// forbids any other origin: no build step, nothing fetched from the
// internet. URLs shown are redacted with transport.RedactURL.
//
// # Mounting
//
// The handler serves its page, its assets and its event stream under
// whatever path it is mounted at, with relative links, so mount it on a
// path that ends with a slash:
//
//	in := inspect.New()
//	in.Add("feed", client)
//	mux.Handle("/inspect/", http.StripPrefix("/inspect", in))
//
// # Cost
//
// Nothing runs while nobody watches: Add only records the client (no
// goroutine, no subscription), and the counters the page shows are the
// client's own (Client.Stats), which cost no allocation per message.
//
// Each open page watches each client's transitions (Client.Watch) through
// a queue of its own of [WithBuffer] transitions that drops its oldest, and
// samples the counters every [WithInterval]. A slow or stalled page never
// slows a client: the client hands each transition to the page's queue and
// never waits for the page. A page that falls that far behind misses the
// oldest and shows how many in its timeline (a gap in the transitions'
// Seq); they are the page's loss, not the client's: no
// *tether.SubscriberDropError, nothing in Stats.SubscriberDrops. A page
// whose writes stall for [WithWriteTimeout] is disconnected (the browser
// reconnects by itself and gets a fresh snapshot); until then it holds one
// goroutine, one queue and one Watcher per client. At most [WithMaxPages]
// pages watch at once; one more is refused (503, with Retry-After) and
// retries by itself.
package inspect
