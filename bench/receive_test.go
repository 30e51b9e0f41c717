package bench

import (
	"context"
	"testing"
	"time"
)

// receiveSizes are the message sizes of BenchmarkReceive.
var receiveSizes = []struct {
	name string
	n    int
}{
	{"16B", 16},
	{"128B", 128},
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
}

// BenchmarkReceive measures reading binary messages from a loopback server
// that writes pre-encoded frames as fast as it can, for every entry of
// receivers. One op is one message.
func BenchmarkReceive(b *testing.B) {
	for _, size := range receiveSizes {
		blob := serverFrames(size.n)
		for _, r := range receivers {
			b.Run("size="+size.name+"/impl="+r.name, func(b *testing.B) {
				benchReceive(b, r, blob, size.n)
			})
		}
	}
}

func benchReceive(b *testing.B, r receiver, blob []byte, size int) {
	srv := startServer(b, feeder(blob))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := r.open(ctx, srv.url, size)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	err = s.receive(b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
}
