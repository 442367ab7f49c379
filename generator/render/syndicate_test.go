package render

import (
	"testing"

	"github.com/rounds-health/rounds/feeds"
)

// TestSharedChannel checks that a feed's channel is made once for its
// formats and let go after the last, and made again if asked for after.
func TestSharedChannel(t *testing.T) {
	t.Parallel()
	made := 0
	sc := &sharedChannel{make: func() *feeds.Channel { made++; return &feeds.Channel{Title: "t"} }, left: len(feedFormats)}
	first := sc.take()
	for range len(feedFormats) - 1 {
		if c := sc.take(); c != first {
			t.Fatal("a format got a channel of its own")
		}
	}
	if made != 1 {
		t.Errorf("the channel was made %d times for %d formats, want once", made, len(feedFormats))
	}
	if sc.c != nil {
		t.Error("the channel is kept after its last format rendered")
	}
	if sc.take() == nil || made != 2 {
		t.Errorf("a take after the last made %d channels in all, want 2", made)
	}
}
