package nightly

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/serve"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/theme"
)

// serviceOptions adjust a subscribers service.
type serviceOptions struct {
	// mailer sends the confirmations; nil means the digests' SMTP server,
	// with the theme's email/confirm.txt.
	mailer subscribers.Mailer
	// preview runs the service beside rounds serve's preview, on its
	// origin: its pages' links lead to the preview, not the site.
	preview bool
}

// newService returns the subscribers service of cfg, on the store st,
// keyed with key, its pages in the site's look as of now.
func newService(cfg *config.Config, st subscribers.Store, key []byte, now time.Time, o serviceOptions) (*subscribers.Service, error) {
	names := map[string]string{}
	for _, l := range cfg.Lists {
		names[l.ID] = l.Name
	}
	mailer := o.mailer
	if mailer == nil && cfg.Subscribers.URL != "" {
		m, err := digest.NewConfirmations(cfg)
		if err != nil {
			return nil, fmt.Errorf("the service mails a link to confirm each sign-up, as the digests are sent: %w", err)
		}
		mailer = m
	}
	siteURL := cfg.BaseURL
	u := cfg.Subscribers.ServiceURL()
	absolute := u != nil && !sameOrigin(u, cfg.Base())
	if o.preview && u != nil {
		siteURL, absolute = u.Scheme+"://"+u.Host+cfg.Base().Path, false
	}
	assets := ""
	if absolute {
		assets = cfg.Subscribers.URL + "assets/"
	}
	pages, err := servicePages(cfg, now, absolute, assets)
	if err != nil {
		return nil, err
	}
	svc := &subscribers.Service{Store: st, Secret: key, Title: cfg.Title, Lists: names,
		URL: cfg.Subscribers.URL, SiteURL: siteURL, Consent: cfg.Subscribers.Consent, Mailer: mailer, Pages: pages}
	if assets != "" {
		svc.Assets = pages
	}
	return svc, nil
}

// servicePages renders the service's pages with the site's theme, header
// and footer; with absolute links when the service has an origin of its
// own, so that they lead back to the site, and its stylesheets then from
// assets, the service's own.
func servicePages(cfg *config.Config, now time.Time, absolute bool, assets string) (*render.ServicePages, error) {
	c := *cfg
	c.AbsoluteLinks, c.AssetBase = absolute, assets
	// The pages show the site's navigation, never a note's body.
	s, err := site.Load(&c, &site.Options{Now: now, DeferBodies: true})
	if err != nil {
		return nil, fmt.Errorf("the service's pages show the site's header: %w", err)
	}
	t, err := theme.Load(&c)
	if err != nil {
		return nil, err
	}
	return &render.ServicePages{Site: s, Theme: t}, nil
}

// Serve runs rounds serve: the preview of the site of configPath on
// addr, and, when [subscribers] url is set, the subscribers service beside
// it, so that a curator can sign up on the preview. The preview's service
// keeps a store of its own in the cache folder, never the real one; it
// mails confirmations to an SMTP server on this machine when [email.smtp]
// names one, and otherwise prints their links.
func Serve(ctx context.Context, configPath, addr string, out Output) error {
	srv := &serve.Server{Config: configPath}
	srv.Subscribers = func(cfg *config.Config) (http.Handler, error) {
		st, err := subscribers.OpenFileStore(serve.PreviewStore(cfg))
		if err != nil {
			return nil, err
		}
		key := []byte(os.Getenv("ROUNDS_UNSUBSCRIBE_SECRET"))
		if subscribers.CheckSecret(key) != nil {
			// The preview's links need only live as long as it does.
			key = []byte(rand.Text())
		}
		o := serviceOptions{preview: true, mailer: consoleMailer{out}}
		if h := cfg.Email.SMTP.Host; h == "localhost" || net.ParseIP(h) != nil && net.ParseIP(h).IsLoopback() {
			o.mailer = nil
		}
		return newService(cfg, st, key, time.Now(), o)
	}
	return srv.Run(ctx, addr, out.Out, out.Err)
}

// sameOrigin reports whether two URLs have the same scheme and host.
func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

// A consoleMailer prints confirmations instead of mailing them: the
// preview's, so that a curator can follow the link.
type consoleMailer struct {
	out Output
}

// Confirm prints the confirmation link.
func (m consoleMailer) Confirm(_ context.Context, c subscribers.Confirmation) error {
	if c.Already {
		fmt.Fprintf(m.out.Out, "rounds serve: a sign-up of an address on its lists already; the mail says so\n")
		return nil
	}
	fmt.Fprintf(m.out.Out, "rounds serve: the confirmation mail's link (the preview mails nothing): %s\n", c.URL)
	return nil
}
