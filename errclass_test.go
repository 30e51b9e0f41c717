package tether_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tether-go/tether"
	"github.com/tether-go/tether/fsm"
	"github.com/tether-go/tether/stream"
	"github.com/tether-go/tether/transport"
)

var errorClasses = []error{tether.ErrConnection, tether.ErrMessage, tether.ErrDelivery}

// classOf returns the one class err matches, or an error saying why not.
func classOf(err error) (error, error) {
	var got []error
	for _, c := range errorClasses {
		if errors.Is(err, c) {
			got = append(got, c)
		}
	}
	if len(got) != 1 {
		return nil, fmt.Errorf("%T %v matches %d classes: %v", err, err, len(got), got)
	}
	return got[0], nil
}

// TestEveryStreamErrorHasOneClass: the error stream used to mix failed
// dials, decode errors and drop reports with nothing to select on but
// their types. A client on a real (memory) server meets a decode error, a
// drop, a subscriber's dropping policy and a full send buffer; everything
// it reports matches exactly one class, the right one, and still unwraps
// to its concrete type.
func TestEveryStreamErrorHasOneClass(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var got []error
	seen := make(chan error, 64)
	c := client[Reading](e, tether.WithSendBuffer(1, 1<<20, stream.DropNewest),
		tether.OnError(func(err error) {
			mu.Lock()
			got = append(got, err)
			mu.Unlock()
			seen <- err
		}))
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	slow := c.Messages(ctx, stream.WithBuffer(1), stream.WithOverflow(stream.DropNewest))
	defer slow.Close()
	sc := e.accept()
	waitState(t, c, fsm.Open)

	require.NoError(t, sc.Send(ctx, transport.Text, []byte(`not json`)))
	for i := range 3 {
		require.NoError(t, sc.Send(ctx, transport.Text, fmt.Appendf(nil, `{"sensor":"s%d"}`, i)))
	}
	var decoded, subDropped bool
	for !decoded || !subDropped { // the server's messages were read
		err := recv(t, seen)
		decoded = decoded || errors.As(err, new(*stream.DecodeError))
		subDropped = subDropped || errors.As(err, new(*tether.SubscriberDropError))
	}
	sc.Drop()
	waitState(t, c, fsm.Waiting)
	require.NoError(t, c.Send(ctx, Reading{Sensor: "queued"}))
	require.NoError(t, c.Send(ctx, Reading{Sensor: "dropped"}), "DropNewest: Send returns nil")
	require.NoError(t, c.Close(ctx))
	waitDone(t, c)

	mu.Lock()
	defer mu.Unlock()
	want := map[string]error{}
	for _, err := range got {
		class, cerr := classOf(err)
		require.NoError(t, cerr)
		var (
			te *tether.TransitionError
			de *stream.DecodeError
			dr *tether.DropError
			sd *tether.SubscriberDropError
		)
		switch {
		case errors.As(err, &te):
			want["transition"] = class
			assert.Equal(t, tether.ErrConnection, class, "%v", err)
		case errors.As(err, &de):
			want["decode"] = class
			assert.Equal(t, tether.ErrMessage, class, "%v", err)
		case errors.As(err, &dr):
			want["drop"] = class
			assert.Equal(t, tether.ErrDelivery, class, "%v", err)
		case errors.As(err, &sd):
			want["subscriber"] = class
			assert.Equal(t, tether.ErrDelivery, class, "%v", err)
		}
	}
	assert.Len(t, want, 4, "every kind of error showed up: %v", got)
}

// TestErrorClassesOfEveryType: each type and sentinel the error stream
// carries is in exactly one class.
func TestErrorClassesOfEveryType(t *testing.T) {
	cases := map[error]error{
		&tether.TransitionError{Transition: fsm.Transition{Event: fsm.EventDialFailed, Cause: transport.ErrTimeout}}: tether.ErrConnection,
		&tether.DropError{Drop: tether.Drop{ID: 1, Reason: tether.ErrBufferFull}}:                                    tether.ErrDelivery,
		&tether.PossiblyLostError{IDs: []uint64{1}, Cause: transport.ErrClosed}:                                      tether.ErrDelivery,
		&tether.SubscriberDropError{Stream: "messages", Count: 1}:                                                    tether.ErrDelivery,
		&tether.CallbackDropError{Count: 1}:                                                                          tether.ErrDelivery,
		&tether.InboundDropError{Count: 1, Reason: tether.ErrClosed}:                                                 tether.ErrDelivery,
		&tether.InboundDropError{Count: 1, Reason: tether.ErrDiscarded}:                                              tether.ErrDelivery,
		tether.ErrNoConsumer: tether.ErrDelivery,
	}
	for err, want := range cases {
		class, cerr := classOf(err)
		require.NoError(t, cerr)
		assert.Equal(t, want, class, "%T", err)
	}

	// Every exported error type of the package is in the table above, or
	// named here as one the error stream never carries on its own: a type
	// added later cannot go unclassed.
	notOnTheStream := map[string]string{
		"OptionError":      "New returns it",
		"ConnectError":     "Connect returns it",
		"InvalidUTF8Error": "Send returns it",
		"StageError":       "the Cause of a *TransitionError",
	}
	inTable := map[string]bool{}
	for err := range cases {
		inTable[strings.TrimPrefix(fmt.Sprintf("%T", err), "*tether.")] = true
	}
	for _, name := range exportedErrorTypes(t) {
		_, elsewhere := notOnTheStream[name]
		assert.True(t, inTable[name] != elsewhere, "%s: in the classes table or named as never on the stream, not both", name)
	}
}

// exportedErrorTypes returns the names of the exported types of package
// tether (its non-test files) that end in Error.
func exportedErrorTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var names []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, spec := range g.Specs {
				if n := spec.(*ast.TypeSpec).Name.Name; ast.IsExported(n) && strings.HasSuffix(n, "Error") {
					names = append(names, n)
				}
			}
		}
	}
	require.NotEmpty(t, names)
	return names
}
