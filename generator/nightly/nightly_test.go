package nightly

import (
	"testing"
	"time"
)

// TestNow reads the present from SOURCE_DATE_EPOCH, from ROUNDS_NOW over
// it, and from the flag over both.
func TestNow(t *testing.T) {
	t.Setenv("ROUNDS_NOW", "")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, err := Now(""); err != nil || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("SOURCE_DATE_EPOCH: %v %v", got, err)
	}
	t.Setenv("ROUNDS_NOW", "2026-01-02")
	if got, _ := Now(""); !got.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ROUNDS_NOW: %v", got)
	}
	if got, _ := Now("2026-03-04T05:06:07+01:00"); !got.Equal(time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC)) {
		t.Errorf("--now: %v", got)
	}
}
