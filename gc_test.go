package main

import (
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

// gogc reads the collector's GOGC from the runtime.
func gogc(t *testing.T) int64 {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		t.Fatalf("/gc/gogc:percent: no such metric")
	}
	return int64(s[0].Value.Uint64())
}

// TestTuneGC checks that rounds runs its collector at defaultGC, and at
// GOGC when the environment sets it.
func TestTuneGC(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })

	t.Setenv("GOGC", "")
	tuneGC()
	if got := gogc(t); got != defaultGC {
		t.Errorf("GOGC unset: the collector runs at %d, want %d", got, defaultGC)
	}

	// The runtime read GOGC=150 when it started; tuneGC leaves it.
	debug.SetGCPercent(150)
	t.Setenv("GOGC", "150")
	tuneGC()
	if got := gogc(t); got != 150 {
		t.Errorf("GOGC=150: the collector runs at %d, want 150", got)
	}
}
