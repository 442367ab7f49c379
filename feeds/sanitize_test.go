package feeds

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// attacks are real-world XSS vectors, each with the one thing the output
// must not contain.
var attacks = []struct{ in, banned string }{
	{`<script>window.__pwned=1</script><p>ok</p>`, "script"},
	{`<img src=x onerror="window.__pwned=1">`, "onerror"},
	{`<IMG SRC="javascript:window.__pwned=1">`, "javascript"},
	{`<a href="javascript:window.__pwned=1">x</a>`, "javascript"},
	{`<a href="JaVaScRiPt&#58;window.__pwned=1">x</a>`, "avascript"},
	{`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;window.__pwned=1">x</a>`, "href"},
	{`<a href="  javascript:window.__pwned=1">x</a>`, "javascript"},
	{`<a href="java` + "\t" + `script:window.__pwned=1">x</a>`, "script"},
	{`<a href="vbscript:msgbox(1)">x</a>`, "vbscript"},
	{`<a href="data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD0xPC9zY3JpcHQ+">x</a>`, "data:"},
	{`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9IndpbmRvdy5fX3B3bmVkPTEiLz4=">`, "data:"},
	{`<svg onload="window.__pwned=1"><circle r="4"/></svg>`, "onload"},
	{`<svg><script>window.__pwned=1</script></svg>`, "script"},
	{`<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>`, "onerror"},
	{`<iframe src="https://evil.example/"></iframe>`, "iframe"},
	{`<iframe srcdoc="<script>window.__pwned=1</script>"></iframe>`, "srcdoc"},
	{`<object data="https://evil.example/x.swf"></object>`, "object"},
	{`<embed src="https://evil.example/x.swf">`, "embed"},
	{`<form action="https://evil.example/"><input name=p type=password><button formaction="javascript:window.__pwned=1">Go</button></form>`, "form"},
	{`<meta http-equiv="refresh" content="0;url=https://evil.example/">`, "refresh"},
	{`<base href="https://evil.example/">`, "base"},
	{`<link rel=stylesheet href="https://evil.example/x.css">`, "stylesheet"},
	{`<style>body{display:none}</style>`, "display"},
	{`<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">Click</div>`, "position"},
	{`<p style="background:url(javascript:window.__pwned=1)">x</p>`, "style"},
	{`<details open ontoggle="window.__pwned=1">x</details>`, "ontoggle"},
	{`<video><source onerror="window.__pwned=1"></video>`, "onerror"},
	{`<body onload="window.__pwned=1">`, "onload"},
	{`<a href="https://ok.example/" onclick="window.__pwned=1">x</a>`, "onclick"},
	{`<a href="https://ok.example/" target="_top">x</a>`, "target"},
	{`<img src="https://ok.example/a.png" srcset="javascript:window.__pwned=1 1x">`, "srcset"},
	{`<p id="main" class="site-header">x</p>`, "site-header"},
	{`<<script>script>window.__pwned=1<</script>/script>`, "<script"},
	{`<noscript><p title="</noscript><img src=x onerror=window.__pwned=1>">`, "onerror"},
	{`<template><img src=x onerror=window.__pwned=1></template>`, "onerror"},
	{`<a href="https://ok.example/"><textarea></a><img src=x onerror=window.__pwned=1></textarea>`, "onerror"},
}

func TestSanitizeAttacks(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://www.fda.gov/safety/")
	for _, a := range attacks {
		out := Sanitize(base, a.in)
		if strings.Contains(strings.ToLower(out), strings.ToLower(a.banned)) {
			t.Errorf("Sanitize(%q) = %q, still holds %q", a.in, out, a.banned)
		}
		if strings.Contains(out, "__pwned") && strings.Contains(out, "<") && !strings.Contains(out, "&lt;") {
			t.Errorf("Sanitize(%q) = %q keeps the payload in markup", a.in, out)
		}
	}
}

func TestSanitizeKeepsContent(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://www.mhra.gov.uk/news/")
	in := `<p>Valproate: <strong>new</strong> safety measures. See <a href="/drug-safety-update/valproate-2026?utm_source=rss">the update</a>.</p>` +
		`<img src="../images/pack.jpg" alt="Valproate pack"><ul><li>one</li></ul><table><tr><th scope="col">Dose</th></tr><tr><td>500 mg</td></tr></table>`
	out := Sanitize(base, in)
	for _, want := range []string{
		`<strong>new</strong>`,
		`<a href="https://www.mhra.gov.uk/drug-safety-update/valproate-2026?utm_source=rss" rel="nofollow noreferrer">the update</a>`,
		`<img src="https://www.mhra.gov.uk/images/pack.jpg" alt="Valproate pack"`,
		`<li>one</li>`, `<th scope="col">Dose</th>`, `<td>500 mg</td>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Sanitize lost %q:\n%s", want, out)
		}
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`Fish &amp; chips`:                          "Fish & chips",
		`<b>Bold</b> claim`:                         "Bold claim",
		"  two\n  lines  ":                          "two lines",
		`Recall <script>window.__pwned=1</script>!`: "Recall !",
		`<p>a</p><p>b</p>`:                          "a b",
		`R&D &lt;2% &mdash; done`:                   "R&D <2% — done",
		`x < y`:                                     "x < y",
	} {
		if got := Plain(in); got != want {
			t.Errorf("Plain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                 "",
		"Plain title, é ü ≥":               "Plain title, é ü ≥",
		"\x1b[31mred\x1b[0m":               "[31mred[0m",
		"\x1b]0;title\x07 after":           "]0;title after",
		"csi\u009b2J and nel\u0085":        "csi2J and nel",
		"del\x7f nul\x00 bell\x07":         "del nul bell",
		"a\tb\nc\r\nd\v\fe":                "a b c de",
		"  lead  and  trail  ":             "lead and trail",
		"no\u00a0break and\u2028separator": "no break and separator",
		"bad\xffbyte":                      "bad\uFFFDbyte",
		"\uFFFD kept":                      "\uFFFD kept",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSanitizeDropsControls(t *testing.T) {
	t.Parallel()
	out := Sanitize(nil, "<p><abbr title=\"a\x1b[2J\">A</abbr>x\x1b[31my&#27;]0;z&#x7;\u009b1m</p>\n<pre>a\tb\r\nc</pre>")
	if want := "<p><abbr title=\"a[2J\">A</abbr>x[31my]0;z1m</p>\n<pre>a\tb\nc</pre>"; out != want {
		t.Errorf("Sanitize kept control characters:\n got %q\nwant %q", out, want)
	}
}

// FuzzPrintable checks that Printable's shortcut for text already
// printable changes nothing, and that its result is printable.
func FuzzPrintable(f *testing.F) {
	for _, s := range []string{"", "a b", " a", "a ", "a  b", "\x1b[31m", "é\u0085x", "\xffa", "a\u00a0b", "\uFFFD", "a\tb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Printable(s)
		if want := strings.Join(strings.Fields(stripControls(s)), " "); got != want {
			t.Errorf("Printable(%q) = %q, want %q", s, got, want)
		}
		if again := Printable(got); again != got {
			t.Errorf("Printable(%q) = %q, then %q", s, got, again)
		}
		if !utf8.ValidString(got) || strings.ContainsFunc(got, isControl) {
			t.Errorf("Printable(%q) = %q is not printable", s, got)
		}
	})
}
