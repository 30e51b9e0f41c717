package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstart runs the program against its embedded server, in real
// time, and checks that the story it tells happened: open, drop, backoff,
// reconnect, heartbeat, close, trace.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out))
	s := out.String()
	for _, want := range []string{
		"Idle --connect--> Connecting",
		"Connecting --dialed--> Open",
		"message    cpu = ",
		"drops connection 1 without a close frame",
		"Open --dropped--> Waiting",
		"backoff    attempt 1 in ",
		"Waiting --retry--> Connecting (attempt 1",
		"heartbeat  round trip ",
		"Closing --closed--> Closed",
		"sequenceDiagram",
		"Open->>Waiting: ",
	} {
		assert.Contains(t, s, want)
	}
	assert.Less(t, strings.Index(s, "--dropped-->"), strings.LastIndex(s, "--dialed-->"), "it reconnects after the drop")
}
