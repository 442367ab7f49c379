package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// A Fetcher fetches sources into a Cache, politely and defensively: a
// bounded pool of workers, a few requests per host at a time, conditional
// requests, a timeout, a size cap and a redirect cap on each request, and
// no connection to an address that is not public (see PublicAddr) unless
// allowed. A failing source never stops the others; it keeps its last
// good items and is tried again after a backoff that doubles with each
// failure.
type Fetcher struct {
	// Client makes the requests; nil means one built from the fields
	// below, which connects directly, never through a proxy named by the
	// environment, so that the address it checks is the real peer's; it
	// checks the address of every connection it makes, redirects
	// included, once the host's name is resolved (see Allowed).
	//
	// A custom client is used as it is: its transport's proxy, dialer and
	// CheckRedirect are its own, and it checks no address unless its
	// dialer does; AllowPrivate, Allow and Resolver do not apply to it.
	// A permanent redirect is recorded in MovedTo only if it has a
	// CheckRedirect.
	Client       *http.Client
	UserAgent    string        // sent with every request
	Workers      int           // sources fetched at once; default 16
	PerHost      int           // requests to one host at once; default 2
	Timeout      time.Duration // for a whole request, body included; default 20 s
	MaxBytes     int64         // largest body read; default 10 MiB
	MaxRedirects int           // default 5
	// Backoff is the wait after a first failure; it doubles with each
	// further failure up to MaxBackoff. Defaults 10 minutes and 6 hours,
	// so a nightly run always tries every source again.
	Backoff, MaxBackoff time.Duration
	// Force tries sources that are still backing off.
	Force bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Done, if set, is called as each source finishes, from the worker
	// that fetched it.
	Done func(Report)

	// AllowPrivate lets the default client connect to any address: for a
	// curator who really follows a feed inside their own network.
	AllowPrivate bool
	// Allow lists the ranges of addresses that are not public which the
	// default client may connect to all the same, such as one intranet
	// host's 10.1.2.3/32; the rest stay refused. Fill it with
	// netip.ParsePrefix from the configuration's CIDR strings. An address
	// is matched as it is dialed, an IPv4-mapped IPv6 address as its IPv4
	// address; so a range of IPv4 addresses is given as IPv4, and a NAT64
	// or 6to4 address matches only a range of IPv6 addresses.
	Allow []netip.Prefix
	// Resolver looks up the default client's host names; nil means
	// net.DefaultResolver. The address checks apply to the addresses it
	// returns.
	Resolver *net.Resolver
}

// Status says how a source's fetch went.
type Status string

// The statuses of a fetch.
const (
	Updated     Status = "updated"      // fetched and parsed
	NotModified Status = "not-modified" // the server answered 304
	Failed      Status = "failed"       // kept its last good items
	BackingOff  Status = "backing-off"  // not tried: still in its backoff
)

// A Report is the outcome of one source's fetch.
type Report struct {
	Source Source
	Status Status
	Code   int // HTTP status, 0 if no response
	Items  int // items kept after the fetch
	New    int // items never seen before
	// Err is why the fetch failed, or for a source backing off why the
	// last one did. Its message is the source's State.LastError: fit to
	// publish, it names no address, port or host and holds no control
	// character. The error it wraps, if any, is the detail (an address
	// refused, a dial error), for the curator's eyes only; errors.Is
	// sees through to it, as to ErrNotPublic.
	Err  error
	Took time.Duration
	// Failures counts consecutive failures, this one included.
	Failures   int
	RetryAfter time.Time
	MovedTo    string
}

// UserAgent is the default User-Agent: it names Rounds and says what it
// is. Callers add who runs it (the newsletter's address), as publishers
// ask of feed readers.
const UserAgent = "Rounds/1 (feed reader for a curated health newsletter)"

func (f *Fetcher) defaults() Fetcher {
	c := *f
	if c.Workers <= 0 {
		c.Workers = 16
	}
	if c.PerHost <= 0 {
		c.PerHost = 2
	}
	if c.Timeout <= 0 {
		c.Timeout = 20 * time.Second
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 10 << 20
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = 5
	}
	if c.Backoff <= 0 {
		c.Backoff = 10 * time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 6 * time.Hour
	}
	if c.UserAgent == "" {
		c.UserAgent = UserAgent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Client == nil {
		dialer := c.Dialer()
		c.Client = &http.Client{
			Transport: &http.Transport{
				// No Proxy: a proxy's address would be the one checked.
				DialContext:           dialer.DialContext,
				ForceAttemptHTTP2:     true,
				MaxIdleConns:          c.Workers * 2,
				MaxIdleConnsPerHost:   c.PerHost,
				IdleConnTimeout:       30 * time.Second,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: c.Timeout,
			},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) > c.MaxRedirects {
					return &fetchError{msg: fmt.Sprintf("more than %d redirects", c.MaxRedirects)}
				}
				if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
					return &fetchError{msg: fmt.Sprintf("redirect to a %s: URL", req.URL.Scheme)}
				}
				return nil
			},
		}
	}
	return c
}

// Dialer returns a dialer that connects only to the addresses f allows
// (see Allowed), checked once the host's name is resolved: for any
// client that fetches what the content names, as the link checker does.
func (f *Fetcher) Dialer() *net.Dialer {
	return &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Resolver:  f.Resolver,
		Control:   f.control,
	}
}

// Fetch fetches every source into cache and reports on each, in the order
// of sources. Its error is only for a cache it could not write: a source
// that fails is reported, not returned.
func (f *Fetcher) Fetch(ctx context.Context, cache *Cache, sources []Source) ([]Report, error) {
	c := f.defaults()
	states, err := cache.States()
	if err != nil {
		// An unreadable record is replaced, not fatal: every source is
		// fetched in full and its items merged with those kept.
		slog.Warn("wire: the sources' record is unreadable; fetching every source afresh", "err", err)
		states = map[string]*State{}
	}
	current := make([]State, len(sources))
	for i, src := range sources {
		if st, ok := states[src.ID]; ok {
			current[i] = *st
		}
	}
	reports := make([]Report, len(sources))
	errs := make([]error, len(sources))
	hosts := &hostLimit{n: c.PerHost, slots: map[string]chan struct{}{}}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.Workers, len(sources)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				reports[i], errs[i] = c.fetchOne(ctx, cache, hosts, sources[i], &current[i])
				if c.Done != nil {
					c.Done(reports[i])
				}
			}
		}()
	}
	for i := range sources {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, src := range sources {
		states[src.ID] = &current[i]
	}
	if err := cache.SaveStates(states); err != nil {
		errs = append(errs, fmt.Errorf("saving the sources' record: %w", err))
	}
	return reports, errors.Join(errs...)
}

// fetchOne fetches one source, saves its items if they changed and
// updates its state.
func (f *Fetcher) fetchOne(ctx context.Context, cache *Cache, hosts *hostLimit, src Source, st *State) (Report, error) {
	r := Report{Source: src}
	start := f.Now()
	if !f.Force && start.Before(st.RetryAfter) && st.URL == src.URL {
		r.Status, r.Items, r.Failures, r.RetryAfter = BackingOff, st.Items, st.Failures, st.RetryAfter
		if st.LastError != "" {
			r.Err = errors.New(st.LastError)
		}
		return r, nil
	}
	if st.URL != src.URL {
		st.URL, st.ETag, st.LastModified, st.MovedTo = src.URL, "", "", ""
	}
	st.LastAttempt = start.UTC()
	res, retryAfter := f.get(ctx, hosts, src, st)
	r.Code, r.Took = res.code, f.Now().Sub(start)
	switch {
	case res.err != nil:
		r.Status, r.Err = Failed, f.failure(res.err)
	case res.code == http.StatusNotModified:
		r.Status = NotModified
	default:
		fresh, err := Parse(src.ID, res.url, res.contentType, res.body, start)
		if err != nil {
			r.Status, r.Err = Failed, outside(err)
			break
		}
		old, err := cache.Items(src.ID)
		if err != nil {
			slog.Warn("wire: a source's kept items are unreadable; replacing them", "source", src.ID, "err", err)
		}
		items, added := merge(old, fresh, src.MaxItems)
		if err := cache.SaveItems(src.ID, items); err != nil {
			return r, fmt.Errorf("saving %s: %w", src.ID, err)
		}
		r.Status, r.New = Updated, added
		st.Items, st.ETag, st.LastModified = len(items), res.etag, res.lastModified
	}
	if r.Status == Failed {
		st.Failures++
		st.LastError, st.Problem = r.Err.Error(), problem(r.Err)
		wait := f.Backoff << min(st.Failures-1, 20)
		if wait > f.MaxBackoff || wait <= 0 {
			wait = f.MaxBackoff
		}
		st.RetryAfter = start.Add(max(wait, retryAfter)).UTC()
	} else {
		st.Failures, st.LastError, st.Problem, st.RetryAfter = 0, "", "", time.Time{}
		st.LastSuccess = start.UTC()
		if res.movedTo != "" {
			st.MovedTo = res.movedTo
		}
	}
	r.Items, r.Failures, r.RetryAfter, r.MovedTo = st.Items, st.Failures, st.RetryAfter, st.MovedTo
	return r, nil
}

// response is what a GET brought back.
type response struct {
	code               int
	url                string // after redirects
	contentType        string
	etag, lastModified string
	movedTo            string // the target of a permanent redirect
	body               []byte
	err                error
}

// get requests the source's feed, conditionally when the state has
// validators. The wait it returns is the server's Retry-After, if any.
func (f *Fetcher) get(ctx context.Context, hosts *hostLimit, src Source, st *State) (response, time.Duration) {
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return response{err: &fetchError{msg: "the source's URL is not an http or https URL", err: err}}, 0
	}
	release, err := hosts.acquire(ctx, u.Host)
	if err != nil {
		return response{err: err}, 0
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, f.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return response{err: &fetchError{msg: "the source's URL is not valid", err: err}}, 0
	}
	req.Header.Set("User-Agent", f.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5")
	if st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		req.Header.Set("If-Modified-Since", st.LastModified)
	}
	var moved string
	client := *f.Client
	if check := client.CheckRedirect; check != nil {
		client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if err := check(req, via); err != nil {
				return err
			}
			if len(via) == 1 && (req.Response.StatusCode == http.StatusMovedPermanently || req.Response.StatusCode == http.StatusPermanentRedirect) {
				// A URL's query may keep control characters.
				moved = Printable(req.URL.String())
			}
			return nil
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		return response{err: err}, 0
	}
	defer resp.Body.Close()
	res := response{
		code:         resp.StatusCode,
		url:          resp.Request.URL.String(),
		contentType:  resp.Header.Get("Content-Type"),
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
		movedTo:      moved,
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return res, 0
	case resp.StatusCode != http.StatusOK:
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		res.err = statusError(resp.StatusCode)
		return res, retryAfter(resp.Header.Get("Retry-After"), f.Now())
	}
	res.body, err = io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = &fetchError{msg: fmt.Sprintf("body not received within %s", f.Timeout), err: err}
		}
		res.err = err
		return res, 0
	}
	if int64(len(res.body)) > f.MaxBytes {
		res.err = &fetchError{msg: fmt.Sprintf("response larger than %d bytes; raise max_bytes if the feed is really this big", f.MaxBytes), problem: ProblemInvalid}
		res.body = nil
	}
	return res, 0
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(min(s, 7*24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), 7*24*time.Hour)
	}
	return 0
}

// hostLimit bounds the requests in flight to each host.
type hostLimit struct {
	n     int
	mu    sync.Mutex
	slots map[string]chan struct{}
}

func (h *hostLimit) acquire(ctx context.Context, host string) (func(), error) {
	h.mu.Lock()
	s, ok := h.slots[host]
	if !ok {
		s = make(chan struct{}, h.n)
		h.slots[host] = s
	}
	h.mu.Unlock()
	select {
	case s <- struct{}{}:
		return func() { <-s }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
