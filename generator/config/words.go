package config

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// The words of a project: audience names, slugs, titles, and what a
// value in a TOML file is called in a message.

// Audiences are the audiences a note may be written for.
var Audiences = []string{"clinicians", "patients", "public"}

// Slugify lowercases s and replaces what is not a letter or digit by "-".
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// Describe says what a value read from TOML is, for messages: "text \"x\"",
// "a list", "the number 3".
func Describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("text %q", v)
	case bool:
		return fmt.Sprintf("%v", v)
	case int64, int, float64:
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a table"
	case time.Time, toml.LocalDate, toml.LocalDateTime, toml.LocalTime:
		return fmt.Sprintf("the date %v", v)
	}
	return fmt.Sprintf("%T", v)
}

// TitleCase raises the first letter of s.
func TitleCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// TOMLValue returns v, a string or a list of strings, written as TOML by
// the TOML encoder: quotes, backslashes and control characters are
// escaped as TOML escapes them, not as Go does. Bytes that are not UTF-8
// become U+FFFD.
func TOMLValue[T string | []string](v T) string {
	var x any
	switch v := any(v).(type) {
	case string:
		x = strings.ToValidUTF8(v, "\uFFFD")
	case []string:
		list := make([]string, len(v))
		for i, s := range v {
			list[i] = strings.ToValidUTF8(s, "\uFFFD")
		}
		x = list
	}
	out, err := toml.Marshal(map[string]any{"v": x})
	if err != nil {
		panic(fmt.Sprintf("toml: %v", err)) // valid UTF-8 text always encodes
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(out), "v = "), "\n")
}

// Count says how many of a thing there are, the noun agreeing with the
// number: Count(1, "note") is "1 note", Count(2, "story") "2 stories".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	switch {
	case strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])):
		noun = noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "x"), strings.HasSuffix(noun, "ch"), strings.HasSuffix(noun, "sh"):
		noun += "es"
	default:
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
