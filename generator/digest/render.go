// Package digest turns editions into email: it renders an edition for a
// mailing list from the theme's email templates (HTML with inlined CSS,
// and a plain-text part of its own), composes one MIME message per
// subscriber, and sends them through SMTP exactly once each, keeping a
// ledger that survives crashes.
package digest

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	htmltemplate "html/template"
	"net/url"
	"os"
	"regexp"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"

	"github.com/vanng822/go-premailer/premailer"
	xhtml "golang.org/x/net/html"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// GmailClip is the size of HTML past which Gmail clips a message.
const GmailClip = 102 << 10

// MaxWidth is the widest an email's layout may be, in CSS pixels.
const MaxWidth = 600

// unsubscribeMark stands in the rendered digest for each subscriber's own
// unsubscribe link, which Compose puts in its place.
const unsubscribeMark = "https://unsubscribe.invalid/rounds"

// Personal returns the digest's HTML and text with the unsubscribe link
// of one subscriber in them.
func (d *Digest) Personal(unsubscribe string) (htmlPart, textPart string) {
	return strings.ReplaceAll(d.HTML, unsubscribeMark, html.EscapeString(unsubscribe)), strings.ReplaceAll(d.Text, unsubscribeMark, unsubscribe)
}

// A Digest is an edition rendered for one list: the same for every
// subscriber but for the unsubscribe link.
type Digest struct {
	Site    *site.Site
	Edition *content.Edition
	List    *config.ListConfig
	// Notes are the edition's notes the list carries, in order.
	Notes     []*content.Note
	Subject   string
	Preheader string
	// HTML has its CSS inlined; Text is the plain-text part.
	HTML, Text string
	// Warnings are problems that do not stop a send, such as a size past
	// Gmail's clipping point.
	Warnings []string
}

// Data is what the email templates are executed with.
type Data struct {
	Site      *site.Site
	Edition   *content.Edition
	List      *config.ListConfig
	Notes     []*content.Note
	Subject   string
	Preheader string
	// EditionURL is the edition's page: "view in browser".
	EditionURL string
	// UnsubscribeURL is the subscriber's own unsubscribe link.
	UnsubscribeURL string
	// Intro is the edition's intro, and Disclaimer the site's medical
	// disclaimer, as HTML with absolute links.
	Intro, Disclaimer htmltemplate.HTML
}

// Templates are a theme's email templates, parsed.
type Templates struct {
	html      *htmltemplate.Template
	text      *texttemplate.Template
	htmlFile  string
	textFile  string
	funcs     map[string]any
	textFuncs texttemplate.FuncMap
}

// LoadTemplates reads email/digest.html and email/digest.txt from the
// theme cfg names, each falling back to the default theme's.
func LoadTemplates(cfg *config.Config) (*Templates, error) {
	t := &Templates{funcs: theme.Funcs(cfg)}
	abs := func(p string) string { return cfg.AbsURL(p) }
	var errs []error
	read := func(rel string) (string, string) {
		path, name, err := theme.File(cfg, rel)
		if err != nil {
			errs = append(errs, err)
			return "", name
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
		}
		return string(data), name
	}
	src, name := read("email/digest.html")
	t.htmlFile = name
	h, err := htmltemplate.New("digest.html").Funcs(t.funcs).Funcs(htmltemplate.FuncMap{"abs": abs}).Parse(src)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	t.html = h
	src, name = read("email/digest.txt")
	t.textFile = name
	// The text part's link function is bound per render; these stand in
	// for parsing.
	t.textFuncs = texttemplate.FuncMap{"abs": abs, "link": func(string, string) string { return "" }, "links": func() string { return "" },
		"wrap": wrap, "markdownText": func(string) string { return "" }, "inc": func(i int) int { return i + 1 },
		"underline": func(s string) string { return strings.Repeat("=", utf8.RuneCountInString(s)) },
		"indent":    func(n int, s string) string { return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n)) }}
	x, err := texttemplate.New("digest.txt").Funcs(t.funcs).Funcs(t.textFuncs).Parse(src)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	t.text = x
	return t, errors.Join(errs...)
}

// Render renders the edition for the list. It returns nil and no error
// when the list carries none of the edition's notes and the edition has
// no intro: there is nothing to send. Problems that would make a broken
// email (an image without alt text, a relative link) are errors.
func Render(t *Templates, s *site.Site, ed *content.Edition, list *config.ListConfig) (*Digest, error) {
	cfg := s.Config
	d := &Digest{Site: s, Edition: ed, List: list}
	for _, n := range ed.Notes {
		if content.Carries(list, n) {
			d.Notes = append(d.Notes, n)
		}
	}
	if len(d.Notes) == 0 {
		return nil, nil
	}
	// A site loaded without its notes' bodies (rounds digest and send
	// read 100,000 notes to show a few) makes those the digest carries:
	// its templates may show them.
	for _, n := range d.Notes {
		if s.Deferred(n) && n.Content == "" {
			h, err := s.Body(n)
			if err != nil {
				return nil, err
			}
			n.Content = h
		}
	}
	d.Subject = oneLine(strings.NewReplacer("{site}", cfg.Title, "{edition}", ed.Title, "{list}", list.Name).Replace(cfg.Email.Subject))
	d.Preheader = oneLine(ed.Summary)
	if d.Preheader == "" {
		var titles []string
		for _, n := range d.Notes {
			titles = append(titles, n.Title)
		}
		d.Preheader = strings.Join(titles, " · ")
	}
	if utf8.RuneCountInString(d.Preheader) > 140 {
		d.Preheader = string([]rune(d.Preheader)[:139]) + "…"
	}
	disclaimer, err := content.Markdown(cfg, []byte(cfg.Disclaimer))
	if err != nil {
		return nil, err
	}
	data := &Data{
		Site: s, Edition: ed, List: list, Notes: d.Notes, Subject: d.Subject, Preheader: d.Preheader,
		EditionURL:     cfg.AbsURL(ed.Path()),
		UnsubscribeURL: unsubscribeMark,
		Intro:          htmltemplate.HTML(s.Absolute(string(ed.Content), s.Config.AbsURL(ed.Path()))),
		Disclaimer:     htmltemplate.HTML(s.Absolute(inline(string(disclaimer)), "")),
	}

	var b bytes.Buffer
	if err := t.html.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("%s: %w", t.htmlFile, err)
	}
	prem, err := premailer.NewPremailerFromString(b.String(), premailer.NewOptions())
	if err != nil {
		return nil, fmt.Errorf("%s: inlining CSS: %w", t.htmlFile, err)
	}
	if d.HTML, err = prem.Transform(); err != nil {
		return nil, fmt.Errorf("%s: inlining CSS: %w", t.htmlFile, err)
	}
	if err := checkHTML(d.HTML); err != nil {
		return nil, fmt.Errorf("%s: %w", t.htmlFile, err)
	}
	if n := len(d.HTML); n > GmailClip {
		d.Warnings = append(d.Warnings, fmt.Sprintf("list %s: the HTML is %d KB, past the %d KB at which Gmail clips a message; carry fewer notes or shorten them", list.ID, n>>10, GmailClip>>10))
	}

	links := &numbered{}
	funcs := texttemplate.FuncMap{
		"link":  links.link,
		"links": links.list,
		"markdownText": func(md string) string {
			return markdownText(md, links, s)
		},
	}
	b.Reset()
	if err := withFuncs(t.text, funcs).Execute(&b, data); err != nil {
		return nil, fmt.Errorf("%s: %w", t.textFile, err)
	}
	d.Text = tidyText(b.String())
	return d, nil
}

// withFuncs returns a copy of t whose per-render functions are funcs.
func withFuncs(t *texttemplate.Template, funcs texttemplate.FuncMap) *texttemplate.Template {
	c, err := t.Clone()
	if err != nil {
		panic(err) // Clone fails only after Execute, which t never runs.
	}
	return c.Funcs(funcs)
}

// numbered collects the links of a plain-text message as numbered
// references: "the note [3]", and at the end "[3] https://…".
type numbered struct {
	urls []string
}

func (n *numbered) link(text, url string) string {
	for i, u := range n.urls {
		if u == url {
			return fmt.Sprintf("%s [%d]", text, i+1)
		}
	}
	n.urls = append(n.urls, url)
	return fmt.Sprintf("%s [%d]", text, len(n.urls))
}

func (n *numbered) list() string {
	var b strings.Builder
	for i, u := range n.urls {
		fmt.Fprintf(&b, "[%d] %s\n", i+1, u)
	}
	return b.String()
}

var mdLink = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// markdownText turns Markdown (an edition's intro) into the plain text of
// an email: Markdown reads well as it is, but for its links, which become
// numbered references. Each paragraph is one line, for wrap to break.
func markdownText(md string, links *numbered, s *site.Site) string {
	out := mdLink.ReplaceAllStringFunc(md, func(m string) string {
		sub := mdLink.FindStringSubmatch(m)
		target := sub[2]
		if strings.HasPrefix(target, "/") {
			target = s.Config.AbsURL(strings.TrimPrefix(target, "/"))
		}
		return links.link(sub[1], target)
	})
	var paras []string
	for _, p := range strings.Split(strings.TrimSpace(out), "\n\n") {
		if strings.HasPrefix(p, "- ") || strings.HasPrefix(p, "* ") || strings.HasPrefix(p, "#") {
			paras = append(paras, p)
			continue
		}
		paras = append(paras, strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(paras, "\n\n")
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(width int, s string) string {
	var b strings.Builder
	for i, para := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		n := 0
		for j, w := range strings.Fields(para) {
			l := utf8.RuneCountInString(w)
			if j > 0 && n+1+l > width {
				b.WriteByte('\n')
				n = 0
			} else if j > 0 {
				b.WriteByte(' ')
				n++
			}
			b.WriteString(w)
			n += l
		}
	}
	return b.String()
}

// tidyText trims trailing spaces and collapses runs of blank lines that
// template actions leave.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}

// inline unwraps HTML that is a single paragraph, so that it can sit in
// the template's own paragraph.
func inline(h string) string {
	t := strings.TrimSpace(h)
	if strings.Count(t, "<p>") == 1 && strings.HasPrefix(t, "<p>") && strings.HasSuffix(t, "</p>") {
		return t[3 : len(t)-4]
	}
	return t
}

// oneLine makes s safe for a header: one line, no control characters.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r < ' ' || r == ' ' || r == 0x7f || r == 0x2028 || r == 0x2029 }), " ")
}

// checkHTML checks what email clients need of a message's HTML: every
// image has alt text, every link and image is absolute, and nothing is
// wider than MaxWidth.
func checkHTML(h string) error {
	z := xhtml.NewTokenizer(strings.NewReader(h))
	var errs []error
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		hasAlt := false
		for _, a := range tok.Attr {
			switch a.Key {
			case "alt":
				hasAlt = true
			case "href", "src":
				u, err := url.Parse(a.Val)
				if err != nil || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "mailto") || (u.Scheme != "mailto" && u.Host == "") {
					errs = append(errs, fmt.Errorf("<%s %s=%q>: email needs absolute http(s) or mailto URLs", tok.Data, a.Key, a.Val))
				}
			case "width":
				var w int
				if _, err := fmt.Sscanf(a.Val, "%d", &w); err == nil && w > MaxWidth && !strings.HasSuffix(a.Val, "%") {
					errs = append(errs, fmt.Errorf("<%s width=%q>: wider than %d px", tok.Data, a.Val, MaxWidth))
				}
			}
		}
		if tok.Data == "img" && !hasAlt {
			errs = append(errs, fmt.Errorf("<img> without alt text; add alt (empty for decoration)"))
		}
	}
	return errors.Join(errs...)
}
