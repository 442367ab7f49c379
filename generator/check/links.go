package check

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/site"
)

// The verdicts of a link check.
const (
	LinkOK      = "ok"      // the server answered 2xx, after any redirects
	LinkMoved   = "moved"   // a permanent redirect (301, 308) to another address: update the link
	LinkBroken  = "broken"  // 404, 410, no such host, or the connection refused
	LinkUnknown = "unknown" // 401, 403, 429, 5xx, a timeout or a reset: the server would not say
)

// A LinkResult is what checking one external link found.
type LinkResult struct {
	URL     string `json:"url"`
	Verdict string `json:"verdict"`
	// Code is the last HTTP status, 0 without a response.
	Code int `json:"code,omitempty"`
	// MovedTo is where a permanent redirect leads.
	MovedTo string `json:"moved_to,omitempty"`
	// Reason says why, in words, for anything but ok.
	Reason  string    `json:"reason,omitempty"`
	Checked time.Time `json:"checked"`
	// Files are the content files that link to URL.
	Files []string `json:"files,omitempty"`
}

// A LinkChecker checks the links from a site's content to other sites:
// its sources, the papers its identifiers resolve to, and the links in its
// text. It asks each host one or two things at a time, with a pause
// between, HEAD first and GET when HEAD is refused, and keeps what it
// found in a cache so that a link is checked again only when its result
// is old.
type LinkChecker struct {
	// Client makes the requests; nil means a client that connects only to
	// public addresses and follows no redirect itself (each is reported).
	Client *http.Client
	// PerHost is how many requests one host gets at once: 1 or 2 (default 1).
	PerHost int
	// Delay is the pause between two requests to one host; default 1 s.
	Delay time.Duration
	// Timeout bounds each request; default 15 s.
	Timeout time.Duration
	// MaxAge is how old a cached result may be; default 7 days.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// UserAgent is sent with each request.
	UserAgent string
}

// LinksEvery is how often rounds nightly checks the links to other sites.
const LinksEvery = 7 * 24 * time.Hour

// LinksFile is where the results of link checks are kept: .cache/ in the
// project folder dir.
func LinksFile(dir string) string { return filepath.Join(dir, ".cache", "links.json") }

// ExternalLinks returns the site's notes', editions' and pages' links to
// other sites, each with the files that have it, sorted.
func ExternalLinks(s *site.Site) map[string][]string {
	out := map[string][]string{}
	add := func(u, file string) {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.HasPrefix(u, s.Config.BaseURL) {
			return
		}
		if !slices.Contains(out[u], file) {
			out[u] = append(out[u], file)
		}
	}
	for _, n := range s.Notes {
		add(n.Source.URL, n.File)
		for _, id := range []struct{ kind, v string }{{"doi", n.Source.DOI}, {"pmid", n.Source.PMID}, {"pmcid", n.Source.PMCID}, {"nct", n.Source.NCT}} {
			if id.v != "" {
				add(content.IDLink(id.kind, id.v), n.File)
			}
		}
		for _, u := range hrefs(string(n.Content)) {
			add(u, n.File)
		}
	}
	for _, e := range s.Editions {
		for _, u := range hrefs(string(e.Content)) {
			add(u, e.File)
		}
	}
	for _, p := range s.Pages {
		for _, u := range hrefs(string(p.Content)) {
			add(u, p.File)
		}
	}
	for _, files := range out {
		slices.Sort(files)
	}
	return out
}

var hrefAttr = regexp.MustCompile(` (?:href|src)="(https?://[^"]+)"`)

// hrefs returns the absolute links and images of HTML h, unescaped.
func hrefs(h string) []string {
	var out []string
	for _, m := range hrefAttr.FindAllStringSubmatch(h, -1) {
		out = append(out, strings.ReplaceAll(m[1], "&amp;", "&"))
	}
	return out
}

func (c *LinkChecker) defaults() LinkChecker {
	d := *c
	d.PerHost = min(max(d.PerHost, 1), 2)
	if d.Delay <= 0 {
		d.Delay = time.Second
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.MaxAge <= 0 {
		d.MaxAge = LinksEvery
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.UserAgent == "" {
		d.UserAgent = "Rounds/1 (link checker of a curated health newsletter)"
	}
	if d.Client == nil {
		d.Client = &http.Client{
			Transport: &http.Transport{DialContext: (&feeds.Fetcher{}).Dialer().DialContext, TLSHandshakeTimeout: 10 * time.Second,
				MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second},
		}
	}
	// Redirects are followed here, one at a time, to tell a permanent
	// one from a temporary one.
	client := *d.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	d.Client = &client
	return d
}

// Check checks the links (URL → the files that have it) whose result in
// cache is missing or older than MaxAge, a host at a time as PerHost and
// Delay allow, many hosts at once, and returns every link's result,
// sorted by URL, with the cache brought up to date.
func (c *LinkChecker) Check(ctx context.Context, links map[string][]string, cache map[string]LinkResult) []LinkResult {
	lc := c.defaults()
	now := lc.Now()
	byHost := map[string][]string{}
	for u := range links {
		if r, ok := cache[u]; ok && now.Sub(r.Checked) < lc.MaxAge {
			continue
		}
		host := u
		if p, err := url.Parse(u); err == nil {
			host = p.Host
		}
		byHost[host] = append(byHost[host], u)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	hosts := make(chan []string)
	for range min(8, max(1, len(byHost))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for urls := range hosts {
				lc.checkHost(ctx, urls, func(r LinkResult) {
					mu.Lock()
					cache[r.URL] = r
					mu.Unlock()
				})
			}
		}()
	}
	for _, h := range slices.Sorted(maps.Keys(byHost)) {
		urls := byHost[h]
		slices.Sort(urls)
		// PerHost lanes for the host, each in turn with a pause.
		for lane := range lc.PerHost {
			var part []string
			for i := lane; i < len(urls); i += lc.PerHost {
				part = append(part, urls[i])
			}
			if len(part) > 0 {
				hosts <- part
			}
		}
	}
	close(hosts)
	wg.Wait()
	var out []LinkResult
	for _, u := range slices.Sorted(maps.Keys(links)) {
		r := cache[u]
		r.URL, r.Files = u, links[u]
		out = append(out, r)
	}
	return out
}

// checkHost checks urls, all of one host, one after another.
func (c *LinkChecker) checkHost(ctx context.Context, urls []string, done func(LinkResult)) {
	for i, u := range urls {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(c.Delay):
			}
		}
		r := c.check(ctx, u)
		r.URL, r.Checked = u, c.Now()
		done(r)
	}
}

// check checks one link, following up to five redirects.
func (c *LinkChecker) check(ctx context.Context, u string) LinkResult {
	var movedTo string
	permanent := true
	for range 6 {
		code, loc, retry, err := c.ask(ctx, u)
		switch {
		case err != nil:
			return errResult(err)
		case code >= 300 && code < 400 && loc != "":
			next, err := url.Parse(u)
			if err == nil {
				next, err = next.Parse(loc)
			}
			if err != nil || next.Scheme != "http" && next.Scheme != "https" {
				return LinkResult{Verdict: LinkBroken, Code: code, Reason: "a redirect to a bad address"}
			}
			permanent = permanent && (code == http.StatusMovedPermanently || code == http.StatusPermanentRedirect)
			u = next.String()
			movedTo = u
			continue
		case code >= 200 && code < 300:
			if movedTo != "" && permanent {
				return LinkResult{Verdict: LinkMoved, Code: code, MovedTo: movedTo, Reason: "moved for good: link to the new address"}
			}
			return LinkResult{Verdict: LinkOK, Code: code}
		case code == http.StatusNotFound || code == http.StatusGone:
			return LinkResult{Verdict: LinkBroken, Code: code, Reason: http.StatusText(code)}
		case code == http.StatusTooManyRequests:
			reason := "the server asks for fewer requests"
			if retry != "" {
				reason += "; retry after " + retry
			}
			return LinkResult{Verdict: LinkUnknown, Code: code, Reason: reason}
		default:
			return LinkResult{Verdict: LinkUnknown, Code: code, Reason: cmp.Or(http.StatusText(code), "status "+strconv.Itoa(code)) + ": the server would not say"}
		}
	}
	return LinkResult{Verdict: LinkBroken, Reason: "more than 5 redirects"}
}

// ask asks for u, HEAD first and GET when the server refuses HEAD, and
// returns the status, the Location and Retry-After headers.
func (c *LinkChecker) ask(ctx context.Context, u string) (int, string, string, error) {
	var code int
	var loc, retry string
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		rctx, cancel := context.WithTimeout(ctx, c.Timeout)
		req, err := http.NewRequestWithContext(rctx, method, u, nil)
		if err != nil {
			cancel()
			return 0, "", "", err
		}
		req.Header.Set("User-Agent", c.UserAgent)
		res, err := c.Client.Do(req)
		if err != nil {
			cancel()
			return 0, "", "", err
		}
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		cancel()
		code, loc, retry = res.StatusCode, res.Header.Get("Location"), res.Header.Get("Retry-After")
		if method == http.MethodHead && code >= 400 && code != http.StatusTooManyRequests && code != http.StatusGone {
			continue // many servers refuse HEAD, or answer it wrongly
		}
		break
	}
	return code, loc, retry, nil
}

// errResult is the result of a request that got no response.
func errResult(err error) LinkResult {
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return LinkResult{Verdict: LinkBroken, Reason: "no such host"}
	case errors.Is(err, syscall.ECONNREFUSED):
		return LinkResult{Verdict: LinkBroken, Reason: "the connection was refused"}
	case errors.Is(err, feeds.ErrNotPublic):
		return LinkResult{Verdict: LinkBroken, Reason: "not an address of the public internet"}
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return LinkResult{Verdict: LinkUnknown, Reason: "timed out"}
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return LinkResult{Verdict: LinkUnknown, Reason: "the connection was reset"}
	}
	return LinkResult{Verdict: LinkUnknown, Reason: "no answer"}
}

// LoadLinks reads the cached results of link checks; a missing or
// unreadable file is an empty cache.
func LoadLinks(path string) map[string]LinkResult {
	out := map[string]LinkResult{}
	data, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	var list []LinkResult
	if json.Unmarshal(data, &list) != nil {
		return out
	}
	for _, r := range list {
		out[r.URL] = r
	}
	return out
}

// SaveLinks writes the cache of link checks, atomically.
func SaveLinks(path string, cache map[string]LinkResult) error {
	var list []LinkResult
	for _, u := range slices.Sorted(maps.Keys(cache)) {
		r := cache[u]
		r.Files = nil
		list = append(list, r)
	}
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LinksAge is how long ago the oldest result in the cache was checked;
// a very large duration for an empty cache.
func LinksAge(cache map[string]LinkResult, now time.Time) time.Duration {
	if len(cache) == 0 {
		return 1 << 62
	}
	oldest := now
	for _, r := range cache {
		if r.Checked.Before(oldest) {
			oldest = r.Checked
		}
	}
	return now.Sub(oldest)
}

// LinkFindings turns results into findings: a broken link is a warning in
// each file that has it, a moved one too, an unknown one a note.
func LinkFindings(results []LinkResult) []content.Finding {
	var out []content.Finding
	for _, r := range results {
		var sev, msg string
		switch r.Verdict {
		case LinkBroken:
			sev, msg = "warning", fmt.Sprintf("broken link %s: %s; fix or remove it", r.URL, r.Reason)
		case LinkMoved:
			sev, msg = "warning", fmt.Sprintf("link %s moved for good to %s; link to the new address", r.URL, r.MovedTo)
		case LinkUnknown:
			sev, msg = "info", fmt.Sprintf("link %s: %s; not known to be broken", r.URL, r.Reason)
		default:
			continue
		}
		for _, f := range r.Files {
			out = append(out, content.Finding{File: f, Kind: "link", Severity: sev, Message: msg})
		}
	}
	return out
}
