package peer

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStartWithoutNodeFails(t *testing.T) {
	p, err := Start(WithNode(filepath.Join(t.TempDir(), "no-such-node")))
	require.ErrorIs(t, err, ErrNodeMissing)
	assert.Nil(t, p)
}

func TestStartWithoutWSPackageFails(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "peer"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, Script), []byte("process.exit(0)\n"), 0o644))
	p, err := Start(withDir(dir))
	require.ErrorIs(t, err, ErrWSMissing)
	assert.Nil(t, p)
}

func TestStartReportsAPeerThatDies(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "peer"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "node_modules", "ws"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "node_modules", "ws", "package.json"), []byte("{}\n"), 0o644))
	script := "console.error('broken peer'); process.exit(3);\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, Script), []byte(script), 0o644))
	p, err := Start(withDir(dir))
	require.ErrorIs(t, err, ErrExited)
	assert.Nil(t, p)
}

func TestStopThenRestartOnTheSamePort(t *testing.T) {
	p := StartT(t)
	require.NotZero(t, p.Port())
	assert.Equal(t, "ws://"+p.Addr()+"/echo", p.URL("/echo"))
	require.NoError(t, p.Stop())
	require.NoError(t, p.Stop(), "Stop is idempotent")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := p.Wait(ctx, func(Event) bool { return true })
	require.ErrorIs(t, err, ErrExited, "a stopped peer reports no more events")

	again := StartT(t, WithPort(p.Port()))
	assert.Equal(t, p.Addr(), again.Addr())
}

func TestWaitEndsWithItsContext(t *testing.T) {
	p := StartT(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Wait(ctx, Is("nobody", KindOpen))
	require.ErrorIs(t, err, context.Canceled)
}

func TestParseEvent(t *testing.T) {
	e := parseEvent(`{"event":"close","id":"a","path":"/echo","code":4001,"reason":"bye"}`)
	assert.Equal(t, Event{Kind: KindClose, ID: "a", Path: "/echo", Code: 4001, Reason: "bye"}, e)
	assert.True(t, Is("a", KindClose)(e))
	assert.False(t, Is("b", KindClose)(e))
	assert.Equal(t, Event{Kind: KindInvalid, Message: "not json"}, parseEvent("not json"))
	assert.Equal(t, KindInvalid, parseEvent(`{"id":"no kind"}`).Kind)
}

func TestWriteCerts(t *testing.T) {
	c, err := WriteCerts(t.TempDir())
	require.NoError(t, err)
	for _, f := range []string{c.CAFile, c.CertFile, c.KeyFile} {
		assert.FileExists(t, f)
	}
	assert.True(t, c.CA.IsCA)
}
