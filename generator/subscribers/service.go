package subscribers

import (
	"cmp"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A Service is the HTTP side of the subscribers service that the links in
// confirmation mails and digests lead to:
//
//   - GET /confirm?token=… shows a page whose button POSTs to /confirm;
//     only the POST confirms, so that mail scanners following links do
//     not;
//   - GET /unsubscribe?token=… shows a page with one button; POST
//     /unsubscribe unsubscribes, at once and with no page when the body is
//     List-Unsubscribe=One-Click (RFC 8058), as mail providers send it.
//
// Paths are relative to where the service is mounted (http.StripPrefix).
// Each request reads the log afresh, so that several instances sharing a
// store agree. A bad, altered, expired or used token gets a 4xx page and
// changes nothing.
type Service struct {
	Store  Store
	Secret []byte
	// Title is the newsletter's name; Lists names its lists, by ID.
	Title string
	Lists map[string]string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Bounces, when not nil, takes SES's bounce and complaint
	// notifications that SNS posts to /sns.
	Bounces http.Handler
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
	var purpose Purpose
	switch strings.Trim(r.URL.Path, "/") {
	case "sns":
		if s.Bounces != nil {
			s.Bounces.ServeHTTP(w, r)
			return
		}
		s.page(w, http.StatusNotFound, page{Title: "Not found", Message: "There is no such page here."})
		return
	case "confirm":
		purpose = PurposeConfirm
	case "unsubscribe":
		purpose = PurposeUnsubscribe
	default:
		s.page(w, http.StatusNotFound, page{Title: "Not found", Message: "There is no such page here."})
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.ask(w, r, purpose)
	case http.MethodPost:
		s.act(w, r, purpose)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		s.page(w, http.StatusMethodNotAllowed, page{Title: "Not allowed", Message: "This page takes GET and POST only."})
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
	p := page{Token: raw, Lists: s.names(t.Lists)}
	if purpose == PurposeConfirm {
		p.Title, p.Message, p.Action, p.Button = "Confirm your subscription", "Press the button to start receiving:", "confirm", "Confirm"
	} else {
		p.Title, p.Message, p.Action, p.Button = "Unsubscribe", "Press the button to stop receiving:", "unsubscribe", "Unsubscribe"
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
		s.page(w, http.StatusBadRequest, page{Title: "Bad request", Message: "The form could not be read."})
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
		s.page(w, http.StatusServiceUnavailable, page{Title: "Try again", Message: "The service could not read its records just now. Please try again in a few minutes."})
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
		s.page(w, http.StatusServiceUnavailable, page{Title: "Try again", Message: "The service could not record this just now. Please try again in a few minutes."})
		return
	}
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("unsubscribed\n"))
		return
	}
	if purpose == PurposeConfirm {
		s.page(w, http.StatusOK, page{Title: "Subscribed", Message: "Your subscription is confirmed. You will receive:", Lists: s.names(e.Lists)})
		return
	}
	s.page(w, http.StatusOK, page{Title: "Unsubscribed", Message: "You are unsubscribed and will receive no more of:", Lists: s.names(e.Lists)})
}

// refuse answers a token that does not hold: 410 when it has expired,
// 409 when it was used or no longer applies, else 400.
func (s *Service) refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrExpired):
		s.page(w, http.StatusGone, page{Title: "Link expired", Message: "This link has expired. Links in newer emails work, and every email has one."})
	case errors.Is(err, ErrReplayed):
		s.page(w, http.StatusConflict, page{Title: "Nothing to do", Message: strings.TrimPrefix(err.Error(), ErrReplayed.Error()+": ")})
	default:
		s.page(w, http.StatusBadRequest, page{Title: "Link not valid", Message: "This link is not valid: it may have been cut short when it was copied. Use the link in the email as it is."})
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

// A page is what the service shows.
type page struct {
	Site, Title, Message string
	Lists                []string
	// Action, Token and Button make the form that acts, when set.
	Action, Token, Button string
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

// page writes p with status.
func (s *Service) page(w http.ResponseWriter, status int, p page) {
	p.Site = s.Title
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTemplate.Execute(w, p); err != nil {
		slog.Warn("subscribers: writing a page", "err", err)
	}
}
