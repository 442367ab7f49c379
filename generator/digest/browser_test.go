package digest

import (
	"html"
	"os"
	"path/filepath"
	"testing"

	"github.com/rounds-health/rounds/generator/browsertest"
)

// overflowProbe records whether anything sticks out of the window.
const overflowProbe = `<script>
window.addEventListener("load", function () {
  var h = document.documentElement, wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 1) wide.push(el.tagName + "." + el.className);
  });
  h.setAttribute("data-viewport", window.innerWidth);
  h.setAttribute("data-overflow", String(h.scrollWidth > window.innerWidth));
  h.setAttribute("data-wide", wide.slice(0, 5).join(" "));
});
</script>`

// TestEmailInBrowser renders each list's digest in headless Chromium at a
// phone's width and at the 600 px of a desktop mail client's reading pane:
// nothing may stick out sideways.
func TestEmailInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	site, ed, tmpl := load(t, project(t, emailConfig))
	c, _ := newComposerWithSecret(site.Config)
	dir := t.TempDir()
	var lists []string
	for _, l := range site.Config.Lists {
		d, err := Render(tmpl, site, ed, l)
		if err != nil {
			t.Fatal(err)
		}
		if d == nil {
			continue
		}
		page, _ := d.Personal(c.unsubscribeLink(l.ID, &Subscriber{Email: "reader@example.net"}, testNow))
		if err := os.WriteFile(filepath.Join(dir, l.ID+".html"), []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l.ID)
	}
	axe := browsertest.AxeScript(t, filepath.Join("..", ".."))
	srv := browsertest.Serve(t, dir, "", overflowProbe+browsertest.AxeProbe, axe)
	for _, width := range []string{"375", "600"} {
		for _, l := range lists {
			dom := browsertest.DumpDOM(t, chromium, srv.URL+"/"+l+".html", width)
			if browsertest.Attr(dom, "data-viewport") == "" {
				t.Fatalf("%s at %s px: the probe did not run", l, width)
			}
			if browsertest.Attr(dom, "data-overflow") != "false" || browsertest.Attr(dom, "data-wide") != "" {
				t.Errorf("%s at %s px: overflows (%s)", l, width, browsertest.Attr(dom, "data-wide"))
			}
			if got := html.UnescapeString(browsertest.Attr(dom, "data-axe")); got != "[]" {
				t.Errorf("%s at %s px: axe-core: %s", l, width, got)
			}
		}
	}
}
