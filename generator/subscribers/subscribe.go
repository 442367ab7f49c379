package subscribers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rounds-health/rounds/generator/leak"
)

// A Mailer sends the mail that confirms a sign-up.
type Mailer interface {
	Confirm(ctx context.Context, c Confirmation) error
}

// A Confirmation is the mail a sign-up sends: the link that confirms it,
// or, when the address already receives every list chosen, a note that
// nothing needs doing (so that the form's answer tells nobody which
// addresses subscribe, and the owner of the address learns of the
// attempt).
type Confirmation struct {
	To string
	// Lists are the names of the lists signed up to.
	Lists []string
	// URL is the confirmation link, valid until Expires; "" when Already.
	URL     string
	Expires time.Time
	// Already is set when the address receives every list already.
	Already bool
}

// StateTTL is how old the copy of the log that sign-ups read may be.
const StateTTL = 5 * time.Second

// Limits caps sign-ups. A client (an IP address) may sign up PerIP
// times, then once every IPEvery; an address gets PerAddress mails,
// then one every AddressEvery. Past the client's limit the service
// answers 429; past the address's it answers as usual and sends nothing,
// so that a form cannot be used to flood someone's inbox.
type Limits struct {
	PerIP        int
	IPEvery      time.Duration
	PerAddress   int
	AddressEvery time.Duration
}

// DefaultLimits are the limits of a Service that sets none: a burst of
// 20 sign-ups from one client, then one every 6 seconds (a hospital's
// staff behind one address can still sign up together), and 3 mails to
// one address, then one every 20 minutes.
var DefaultLimits = Limits{PerIP: 20, IPEvery: 6 * time.Second, PerAddress: 3, AddressEvery: 20 * time.Minute}

// maxTracked bounds the clients and addresses a limiter remembers; past
// it, the buckets that are full again are forgotten first.
const maxTracked = 100_000

// A limiter holds token buckets by key.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes a token from key's bucket of size burst, refilled one
// every every; false when it is empty.
func (l *limiter) allow(key string, burst int, every time.Duration, now time.Time) bool {
	if burst <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxTracked {
			l.prune(burst, every, now)
		}
		b = &bucket{tokens: float64(burst), at: now}
		l.buckets[key] = b
	}
	if every > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(now.Sub(b.at))/float64(every))
	}
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune forgets the buckets that have filled up again, or, if none has,
// the oldest half.
func (l *limiter) prune(burst int, every time.Duration, now time.Time) {
	for k, b := range l.buckets {
		if every > 0 && b.tokens+float64(now.Sub(b.at))/float64(every) >= float64(burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxTracked {
		return
	}
	ats := make([]time.Time, 0, len(l.buckets))
	for _, b := range l.buckets {
		ats = append(ats, b.at)
	}
	slices.SortFunc(ats, time.Time.Compare)
	cut := ats[len(ats)/2]
	for k, b := range l.buckets {
		if b.at.Before(cut) {
			delete(l.buckets, k)
		}
	}
}

func (s *Service) limits() (*limiter, Limits) {
	s.once.Do(func() { s.limiter = &limiter{buckets: map[string]*bucket{}} })
	if s.Limits == (Limits{}) {
		return s.limiter, DefaultLimits
	}
	return s.limiter, s.Limits
}

// clientIP is the address limits and consent records count the request
// by.
func (s *Service) clientIP(r *http.Request) string {
	if s.ClientIP != nil {
		if ip := s.ClientIP(r); ip != "" {
			return ip
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// state returns the log's state, as read at most StateTTL ago.
func (s *Service) state(ctx context.Context, now time.Time) (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache != nil && now.Sub(s.loaded) < StateTTL && !now.Before(s.loaded) {
		return s.cache, nil
	}
	st, err := Load(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	s.cache, s.loaded = st, now
	return st, nil
}

// remember applies an event this instance appended to its copy of the
// log.
func (s *Service) remember(e *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cache != nil {
		s.cache.Apply(e)
	}
}

// subscribePage answers /subscribe: POST takes the sign-up form, GET
// with ?sent shows "check your email", and any other GET leads to the
// site's sign-up page.
func (s *Service) subscribePage(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		s.subscribe(w, r)
	case http.MethodGet, http.MethodHead:
		if r.URL.Query().Has("sent") || s.SiteURL == "" {
			s.sent(w, http.StatusOK)
			return
		}
		http.Redirect(w, r, s.SiteURL+"subscribe/", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.page(w, http.StatusMethodNotAllowed, Page{Kind: "error", Title: "Not allowed", Message: "This page takes GET and POST only."})
	}
}

// sent shows "check your email": the answer to every sign-up that is
// well formed, whoever's address it gives.
func (s *Service) sent(w http.ResponseWriter, status int) {
	s.page(w, status, Page{Kind: "sent", Title: "Check your email",
		Message: "If the address is right, an email with a link to confirm is on its way. Nothing is sent to you until you confirm; the link works for 7 days. Nothing arrived? Look in your spam folder, or sign up again in a few minutes."})
}

// subscribe takes a sign-up form: email, list (one or more), the
// honeypot field website, and page, the form's page.
func (s *Service) subscribe(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.page(w, http.StatusRequestEntityTooLarge, Page{Kind: "error", Title: "Form too large", Message: "The form sent more than a sign-up needs. Use the form on the site as it is."})
			return
		}
		s.page(w, http.StatusBadRequest, Page{Kind: "error", Title: "Bad request", Message: "The form could not be read."})
		return
	}
	f := r.PostForm
	lim, limits := s.limits()
	ip := s.clientIP(r)
	if !lim.allow("ip:"+ip, limits.PerIP, limits.IPEvery, now) {
		w.Header().Set("Retry-After", strconv.Itoa(int(max(limits.IPEvery, time.Second)/time.Second)))
		s.page(w, http.StatusTooManyRequests, Page{Kind: "error", Title: "Too many sign-ups", Message: "Too many sign-ups came from your network just now. Please try again in a few minutes."})
		return
	}
	if f.Get("website") != "" {
		// The honeypot, which people never see: a robot filled it in.
		slog.Info("subscribers: sign-up refused: the honeypot field was filled")
		s.answer(w, r)
		return
	}
	email, err := CheckAddress(f.Get("email"))
	if err != nil {
		s.page(w, http.StatusBadRequest, Page{Kind: "error", Title: "Check the address", Message: "That is not an email address we can send to: " + err.Error() + ". Go back and correct it."})
		return
	}
	var lists []string
	for _, l := range f["list"] {
		l = strings.TrimSpace(l)
		if _, ok := s.Lists[l]; !ok {
			s.page(w, http.StatusBadRequest, Page{Kind: "error", Title: "No such list", Message: "The form named a list this newsletter does not have. Reload the sign-up page and choose again."})
			return
		}
		if !slices.Contains(lists, l) {
			lists = append(lists, l)
		}
	}
	if len(lists) == 0 {
		s.page(w, http.StatusBadRequest, Page{Kind: "error", Title: "Choose a list", Message: "Choose at least one list to receive, then sign up again."})
		return
	}
	if s.Mailer == nil {
		s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "Sign-ups are closed just now. Please try again later."})
		return
	}
	key := Key(s.Secret, email)
	if !lim.allow("key:"+key, limits.PerAddress, limits.AddressEvery, now) {
		slog.Info("subscribers: sign-up not mailed: too many for the address", "address", leak.Mask(email))
		s.answer(w, r)
		return
	}
	state, err := s.state(r.Context(), now)
	if err != nil {
		slog.Error("subscribers: reading the log", "err", err)
		s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "The service could not read its records just now. Please try again in a few minutes."})
		return
	}
	// The lists the address does not receive yet.
	var want []string
	sub, _ := state.Subscriber(key)
	for _, l := range lists {
		if x, ok := sub.On(l); !ok || x.Status != Active || sub.Suppressed != "" {
			want = append(want, l)
		}
	}
	c := Confirmation{To: email, Already: len(want) == 0}
	if c.Already {
		c.Lists = s.names(lists)
	} else {
		page := f.Get("page")
		if onSite := strings.HasPrefix(page, "/") || s.SiteURL != "" && strings.HasPrefix(page, s.SiteURL); len(page) > 300 || !onSite {
			page = "" // not a page of the site
		}
		e := Event{ID: NewID(), Time: now, Kind: Subscribed, Key: key, Email: email, Lists: want, Source: "form:" + page,
			Consent: &Consent{Text: HashText(s.Consent), Page: page, IP: HashIP(s.Secret, ip)}}
		if err := s.Store.Append(r.Context(), e); err != nil {
			slog.Error("subscribers: recording a sign-up", "err", err)
			s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "The service could not record this just now. Please try again in a few minutes."})
			return
		}
		s.remember(&e)
		t := ConfirmToken(&e)
		token, err := Sign(s.Secret, t)
		if err != nil {
			slog.Error("subscribers: signing a confirmation", "err", err)
			s.page(w, http.StatusInternalServerError, Page{Kind: "error", Title: "Try again", Message: "Something went wrong here. Please try again in a few minutes."})
			return
		}
		c.Lists, c.URL, c.Expires = s.names(want), s.URL+"confirm?token="+token, t.Expires
	}
	if err := s.Mailer.Confirm(r.Context(), c); err != nil {
		slog.Error("subscribers: mailing a confirmation", "address", leak.Mask(email), "err", err)
		s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "The confirmation email could not be sent just now. Please sign up again in a few minutes."})
		return
	}
	slog.Info("subscribers: sign-up", "address", leak.Mask(email), "lists", len(lists), "already", c.Already)
	s.answer(w, r)
}

// answer is the reply to a sign-up that was well formed: JSON to a
// script that asks for it, else a redirect to "check your email" (so
// that reloading the page does not post the form again).
func (s *Service) answer(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"status":"sent"}` + "\n"))
		return
	}
	// Relative to the request's own URL: the service knows only the
	// path below its prefix.
	w.Header().Set("Location", "subscribe?sent")
	w.WriteHeader(http.StatusSeeOther)
}
