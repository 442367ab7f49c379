package leak

import (
	"bytes"
	"strings"
	"testing"
)

var subscribers = []string{"Reader@Example.org", "info@clinic.test", "o'brien+news@mail.example", "a@b.test", "dr.who@nhs.example.uk"}

func TestFind(t *testing.T) {
	t.Parallel()
	g := New(append(subscribers, "not-an-address", ""))
	if g.Len() != len(subscribers) {
		t.Fatalf("Len = %d, want %d", g.Len(), len(subscribers))
	}
	found := map[string]string{
		"plain":                `<p>Write to reader@example.org today</p>`,
		"upper case":           `<p>READER@EXAMPLE.ORG</p>`,
		"full stop":            `Write to reader@example.org.`,
		"in quotes":            `the address "reader@example.org" was`,
		"html-escaped quotes":  `the address &#34;reader@example.org&#34; was`,
		"code span":            `<code>reader@example.org</code>`,
		"link query":           `<a href="https://x.test/u?email=reader@example.org&amp;l=1">`,
		"mailto":               `<a href="mailto:reader@example.org">`,
		"percent-encoded":      `<a href="https://x.test/u?email=reader%40example.org">`,
		"percent, upper hex":   `reader%40EXAMPLE.ORG`,
		"encoded twice":        `https://x.test/?next=%2Fu%3Femail%3Dreader%2540example.org`,
		"every byte encoded":   `%72%65%61%64%65%72%40%65%78%61%6d%70%6c%65%2e%6f%72%67`,
		"decimal reference":    `reader&#64;example.org`,
		"zero-padded":          `reader&#064;example.org`,
		"hex reference":        `reader&#x40;example&#x2E;org`,
		"named reference":      `reader&commat;example&period;org`,
		"json escape":          `{"content_html":"reader\u0040example.org"}`,
		"javascript escape":    `var a = "reader\x40example.org";`,
		"role address":         `Contact info@clinic.test for appointments`,
		"apostrophe and plus":  `o'brien+news@mail.example`,
		"after an equals sign": `?to=o'brien+news@mail.example`,
		"dotted local part":    `(dr.who@nhs.example.uk)`,
		"in an xml feed":       `<author>a@b.test (A)</author>`,
		"end of data":          `a@b.test`,
		"in a file name":       `<img src="/images/a@b.test.png">`,
	}
	for name, text := range found {
		if got := g.Find([]byte(text)); got == "" {
			t.Errorf("%s: no address found in %q", name, text)
		}
	}
	notFound := map[string]string{
		"another local part": `xa@b.test`,
		"another domain":     `a@b.testing a@sub.b.test a@b-test.org`,
		"no @":               `reader at example.org`,
		"other addresses":    `editors@example.org press@clinic.test`,
		"retina image":       `<img src="logo@2x.png" alt="">`,
		"html entities":      `&#39;&#34;&amp;&#x27;`,
		"percent signs":      `100% of 40% and %4 %zz`,
	}
	for name, text := range notFound {
		if got := g.Find([]byte(text)); got != "" {
			t.Errorf("%s: found %q in %q", name, got, text)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	g := New(subscribers)
	err := g.Check("notes/x/index.html", []byte("<p>reader@example.org</p>"))
	if err == nil {
		t.Fatal("no error for a page with a subscriber's address")
	}
	if msg := err.Error(); !strings.Contains(msg, "r***@example.org") || strings.Contains(msg, "reader@") {
		t.Errorf("error %q should mask the address", msg)
	}
	if err := g.Check("images/reader@example.org.png", nil); err == nil {
		t.Error("no error for a file named after a subscriber")
	}
	if err := g.Check("index.html", []byte("<p>editors@example.org</p>")); err != nil {
		t.Errorf("error for an address that is no subscriber's: %v", err)
	}
	var none *Guard
	if err := none.Check("index.html", []byte("reader@example.org")); err != nil || none.Len() != 0 {
		t.Errorf("a nil guard: %v, %d addresses", err, none.Len())
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"reader@example.org": "r***@example.org", "éva@x.test": "é***@x.test", "x": "x***", "": "***"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkFind looks for 10,000 addresses in a page of 20 KB that holds
// none of them but many "@"s and character references, as pages do.
func BenchmarkFind(b *testing.B) {
	var addrs []string
	for i := range 10000 {
		addrs = append(addrs, "reader"+strings.Repeat("x", i%7)+"@example"+string(rune('a'+i%26))+".org")
	}
	g := New(addrs)
	page := bytes.Repeat([]byte(`<p class="note">It&#39;s &#34;moderate&#34; evidence; write to editors@example.org or see 40% &amp; <a href="/x?a=1&amp;b=2">this</a>.</p>`+"\n"), 150)
	b.SetBytes(int64(len(page)))
	for b.Loop() {
		if g.Find(page) != "" {
			b.Fatal("found an address")
		}
	}
}
