package render

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/theme"
)

// ServicePages renders the subscribers service's pages (it is a
// subscribers.Pages) with the theme's service layout, in the site's look:
// its header, footer and stylesheet. Load the site and the theme with
// config.Config.AbsoluteLinks set when the service has another origin
// than the site, so that their links lead back to it.
type ServicePages struct {
	Site  *site.Site
	Theme *theme.Theme
}

// ServeHTTP serves the theme's fingerprinted stylesheets and scripts,
// by their output paths (see config.Config.AssetBase).
func (sp *ServicePages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, ok := sp.Theme.Assets()[strings.TrimPrefix(r.URL.Path, "/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", mime.TypeByExtension(path.Ext(r.URL.Path)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	w.Write(data)
}

// Render writes the page.
func (sp *ServicePages) Render(w io.Writer, p *subscribers.Page) error {
	d := &PageData{Site: sp.Site, Kind: "service", Path: "subscribe/", Title: p.Title, Service: p, Feeds: feedLinks(sp.Site.Config.Title, "", nil)}
	d.finish()
	var b bytes.Buffer
	if err := sp.Theme.Execute(&b, d.Kind, d); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}
