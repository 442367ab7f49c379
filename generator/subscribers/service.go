package subscribers

import (
	"bytes"
	"cmp"
	"errors"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Service is the HTTP side of the subscribers service, which the
// site's sign-up forms post to and the links in confirmation mails and
// digests lead to:
//
//   - POST /subscribe takes a sign-up form: it records a pending
//     subscription with its consent and mails a confirmation link
//     (double opt-in). Its answer is the same whether or not the address
//     is known, so that nobody can learn who subscribes;
//   - GET /confirm?token=… shows a page whose button POSTs to /confirm;
//     only the POST confirms, so that mail scanners following links do
//     not;
//   - GET /unsubscribe?token=… shows a page with one button; POST
//     /unsubscribe unsubscribes, at once and with no page when the body is
//     List-Unsubscribe=One-Click (RFC 8058), as mail providers send it;
//   - POST /sns takes SES's bounce and complaint notifications, when
//     Bounces is set.
//
// Paths are relative to where the service is mounted (http.StripPrefix).
// Confirming and unsubscribing read the log afresh, so that several
// instances sharing a store agree; sign-ups read a copy at most
// StateTTL old. A bad, altered, expired or used token gets a 4xx page and
// changes nothing.
type Service struct {
	Store  Store
	Secret []byte
	// Title is the newsletter's name; Lists names its lists, by ID.
	Title string
	Lists map[string]string
	// URL is the service's own absolute URL, ending in a slash: the
	// confirmation links lead to it. SiteURL is the site's.
	URL, SiteURL string
	// Consent is the sentence the sign-up form shows beside its button;
	// each sign-up records its hash.
	Consent string
	// Mailer sends the confirmation mails; sign-ups are refused (503)
	// without one.
	Mailer Mailer
	// Pages renders the service's pages, in the site's look; nil means a
	// plain page of the service's own.
	Pages Pages
	// Limits caps sign-ups by client and by address; the zero value
	// means DefaultLimits.
	Limits Limits
	// ClientIP returns the client's IP address for a request; nil means
	// the host of RemoteAddr. Behind a proxy it reads the header the
	// proxy sets, and only that.
	ClientIP func(*http.Request) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Assets, when not nil, serves the pages' stylesheets and scripts
	// under assets/.
	Assets http.Handler
	// Bounces, when not nil, takes SES's bounce and complaint
	// notifications that SNS posts to /sns.
	Bounces http.Handler

	once    sync.Once
	limiter *limiter
	mu      sync.Mutex
	cache   *State
	loaded  time.Time
}

// maxForm caps the body of a POST: a token and a few fields.
const maxForm = 16 << 10

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// ServeHTTP routes the service's requests.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token stays here
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	if rest, ok := strings.CutPrefix(r.URL.Path, "/assets/"); ok && s.Assets != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		r2 := *r
		r2.URL = &url.URL{Path: "/" + rest}
		s.Assets.ServeHTTP(w, &r2)
		return
	}
	var purpose Purpose
	switch strings.Trim(r.URL.Path, "/") {
	case "sns":
		if s.Bounces != nil {
			s.Bounces.ServeHTTP(w, r)
			return
		}
		s.page(w, http.StatusNotFound, Page{Kind: "not-found", Title: "Not found", Message: "There is no such page here."})
		return
	case "subscribe":
		s.subscribePage(w, r)
		return
	case "confirm":
		purpose = PurposeConfirm
	case "unsubscribe":
		purpose = PurposeUnsubscribe
	default:
		s.page(w, http.StatusNotFound, Page{Kind: "not-found", Title: "Not found", Message: "There is no such page here."})
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.ask(w, r, purpose)
	case http.MethodPost:
		s.act(w, r, purpose)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.page(w, http.StatusMethodNotAllowed, Page{Kind: "error", Title: "Not allowed", Message: "This page takes GET and POST only."})
	}
}

// ask shows the page whose button confirms or unsubscribes: a GET changes
// nothing.
func (s *Service) ask(w http.ResponseWriter, r *http.Request, purpose Purpose) {
	raw := r.URL.Query().Get("token")
	t, err := Verify(s.Secret, raw, purpose, s.now())
	if err != nil {
		s.refuse(w, err)
		return
	}
	p := Page{Kind: "confirm", Token: raw, Lists: s.names(t.Lists)}
	if purpose == PurposeConfirm {
		p.Title, p.Message, p.Action, p.Button = "Confirm your subscription", "Press the button to start receiving:", "confirm", "Confirm"
	} else {
		p.Kind, p.Title, p.Message, p.Action, p.Button = "unsubscribe", "Unsubscribe", "Press the button to stop receiving:", "unsubscribe", "Unsubscribe"
		if len(t.Lists) == 0 {
			p.Message = "Press the button to stop receiving every list."
		}
	}
	s.page(w, http.StatusOK, p)
}

// act confirms or unsubscribes, once, for a POSTed token.
func (s *Service) act(w http.ResponseWriter, r *http.Request, purpose Purpose) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		s.page(w, http.StatusBadRequest, Page{Kind: "error", Title: "Bad request", Message: "The form could not be read."})
		return
	}
	oneClick := purpose == PurposeUnsubscribe && r.PostForm.Get("List-Unsubscribe") == "One-Click"
	raw := cmp.Or(r.PostForm.Get("token"), r.URL.Query().Get("token"))
	now := s.now()
	t, err := Verify(s.Secret, raw, purpose, now)
	if err != nil {
		s.refuse(w, err)
		return
	}
	state, err := Load(r.Context(), s.Store)
	if err != nil {
		slog.Error("subscribers: reading the log", "err", err)
		s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "The service could not read its records just now. Please try again in a few minutes."})
		return
	}
	var e Event
	if purpose == PurposeConfirm {
		e, err = state.Confirm(t, now)
	} else {
		e, err = state.Unsubscribe(t, now)
		if _, known := state.Subscriber(t.Key); errors.Is(err, ErrReplayed) && !known && t.Ref == "" && len(t.Lists) > 0 {
			// A subscriber of the curators' file, whom the log does not
			// know: the unsubscribe is recorded, so that no send mails
			// them on the strength of a row.
			e, err = Event{ID: NewID(), Time: now, Kind: Unsubscribed, Key: t.Key, Lists: t.Lists, Source: "link"}, nil
		}
	}
	if err != nil {
		s.refuse(w, err)
		return
	}
	if oneClick {
		e.Source = "one-click"
	}
	if err := s.Store.Append(r.Context(), e); err != nil {
		slog.Error("subscribers: recording", "kind", e.Kind, "err", err)
		s.page(w, http.StatusServiceUnavailable, Page{Kind: "error", Title: "Try again", Message: "The service could not record this just now. Please try again in a few minutes."})
		return
	}
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("unsubscribed\n"))
		return
	}
	if purpose == PurposeConfirm {
		s.page(w, http.StatusOK, Page{Kind: "confirmed", Title: "Subscribed", Message: "Your subscription is confirmed. You will receive:", Lists: s.names(e.Lists)})
		return
	}
	s.page(w, http.StatusOK, Page{Kind: "unsubscribed", Title: "Unsubscribed", Message: "You are unsubscribed and will receive no more of:", Lists: s.names(e.Lists)})
}

// refuse answers a token that does not hold: 410 when it has expired,
// 409 when it was used or no longer applies, else 400.
func (s *Service) refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrExpired):
		s.page(w, http.StatusGone, Page{Kind: "expired", Title: "Link expired", Message: "This link has expired. Links in newer emails work, and every email has one."})
	case errors.Is(err, ErrReplayed):
		s.page(w, http.StatusConflict, Page{Kind: "nothing-to-do", Title: "Nothing to do", Message: strings.TrimPrefix(err.Error(), ErrReplayed.Error()+": ")})
	default:
		s.page(w, http.StatusBadRequest, Page{Kind: "invalid", Title: "Link not valid", Message: "This link is not valid: it may have been cut short when it was copied. Use the link in the email as it is."})
	}
}

// names returns the lists' names, in order of ID; the IDs of lists the
// service does not know stand for themselves.
func (s *Service) names(ids []string) []string {
	var out []string
	for _, id := range slices.Sorted(slices.Values(ids)) {
		out = append(out, cmp.Or(s.Lists[id], id))
	}
	return out
}

// A Page is what the service shows: a page in the site's look when the
// service has Pages.
type Page struct {
	// Kind names the page for themes: "confirm" and "unsubscribe" (the
	// pages with a button), "sent" (check your email), "confirmed",
	// "unsubscribed", "expired", "invalid", "nothing-to-do", "not-found"
	// and "error".
	Kind string
	// Status is the HTTP status the page is sent with.
	Status int
	// Site is the newsletter's name.
	Site, Title, Message string
	Lists                []string
	// Action, Token and Button make the form that acts, when set.
	Action, Token, Button string
}

// Pages renders the service's pages.
type Pages interface {
	Render(w io.Writer, p *Page) error
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}} · {{.Site}}</title>
</head>
<body style="font: 1.0625rem/1.6 system-ui, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1.25rem">
<main>
<h1>{{.Title}}</h1>
<p>{{.Message}}</p>
{{- with .Lists}}
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
{{- if .Action}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit" style="min-height: 44px; padding: 0.5rem 1.25rem; font: inherit">{{.Button}}</button>
</form>
{{- end}}
<p><small>{{.Site}}</small></p>
</main>
</body>
</html>
`))

// page writes p with status, through Pages when the service has them.
func (s *Service) page(w http.ResponseWriter, status int, p Page) {
	p.Site, p.Status = s.Title, status
	var b bytes.Buffer
	var err error
	if s.Pages != nil {
		err = s.Pages.Render(&b, &p)
	} else {
		err = pageTemplate.Execute(&b, p)
	}
	if err != nil {
		slog.Error("subscribers: rendering a page", "kind", p.Kind, "err", err)
		b.Reset()
		if status < 400 {
			status = http.StatusInternalServerError
		}
		b.WriteString("<!DOCTYPE html><title>Error</title><p>This page could not be shown.</p>")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if s.SiteURL != "" {
		// The site's stylesheet and images, in the site's look.
		if u, err := url.Parse(s.SiteURL); err == nil && u.Host != "" {
			origin := u.Scheme + "://" + u.Host
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self' "+origin+"; img-src 'self' "+origin+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		}
	}
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
