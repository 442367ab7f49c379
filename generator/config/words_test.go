package config

import (
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// TestTOMLValue writes strings that Go's quoting would write as invalid
// TOML (control characters, \a, \v, \x escapes) and reads them back.
func TestTOMLValue(t *testing.T) {
	t.Parallel()
	var controls strings.Builder
	for c := range rune(0x20) {
		controls.WriteRune(c)
	}
	for _, s := range []string{"plain", `"quoted" \ 'single'`, controls.String() + "\x7f\u0085\u202e", "é ✓ 🩺", "line\nbreak", ""} {
		var got struct{ V string }
		if err := toml.Unmarshal([]byte("v = "+TOMLValue(s)), &got); err != nil || got.V != s {
			t.Errorf("%q: written as %s, read back as %q, %v", s, TOMLValue(s), got.V, err)
		}
	}
	var list struct{ V []string }
	if err := toml.Unmarshal([]byte("v = "+TOMLValue([]string{"a\x1b", `b"`})), &list); err != nil || len(list.V) != 2 || list.V[0] != "a\x1b" {
		t.Errorf("a list: %q, %v", list.V, err)
	}
	if v := TOMLValue([]string(nil)); v != "[]" {
		t.Errorf("no topics are written as %s, want []", v)
	}
	var bad struct{ V string }
	if err := toml.Unmarshal([]byte("v = "+TOMLValue("a\xffb")), &bad); err != nil || bad.V != "a\uFFFDb" {
		t.Errorf("bytes that are not UTF-8: %q, %v", bad.V, err)
	}
}

func TestCount(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "note", "0 notes"}, {1, "note", "1 note"}, {2, "story", "2 stories"}, {3, "day", "3 days"},
		{1, "failure", "1 failure"}, {4, "failure", "4 failures"}, {2, "inbox", "2 inboxes"}, {1, "story", "1 story"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
