package tether_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
)

// panicChild names the environment variable that makes
// TestAPanicInOnMessageEndsTheProgram the child process.
const panicChild = "TETHER_TEST_PANIC_CHILD"

// TestAPanicInOnMessageEndsTheProgram: the package documentation says a
// panic in code of yours that the client runs is not recovered and ends
// the program. A child process whose OnMessage panics must die of that
// panic, its message on standard error, rather than go on.
func TestAPanicInOnMessageEndsTheProgram(t *testing.T) {
	if os.Getenv(panicChild) != "" {
		panicInOnMessage(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAPanicInOnMessageEndsTheProgram$", "-test.count=1")
	cmd.Env = append(os.Environ(), panicChild+"=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "the child ended with %v:\n%s", err, out)
	require.Contains(t, string(out), "panic: the handler's own", "the child died of the handler's panic")
}

// panicInOnMessage is the child's part: a client whose OnMessage panics
// on the first message. It returns only if the panic was recovered.
func panicInOnMessage(t *testing.T) {
	srv, _ := speakingServer(t, 1, func(int) []byte { return []byte("hello") })
	c, err := tether.New[string](srv.URL, tether.WithAutoConnect(false),
		tether.OnMessage(func(string) { panic("the handler's own") }))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	require.NoError(t, c.Connect(ctx))
	<-ctx.Done() // the panic ends the process long before
	t.Log("the panic was recovered")
}
