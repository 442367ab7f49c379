package generator

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/browsertest"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/theme"

	"path/filepath"
	"testing"
)

// probe is injected into each page the browser loads. Once the page has
// loaded, it records what the test checks as attributes on <html>, which
// chromium's --dump-dom then prints.
const probe = `<script>
window.addEventListener("load", function () {
  var h = document.documentElement, wrap = document.querySelector("main.wrap");
  var wide = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 1 && !(el.parentElement && el.parentElement.closest("table, pre")) && !el.closest(".skip-link")) wide.push(el.tagName + "." + el.className);
  });
  h.setAttribute("data-viewport", window.innerWidth);
  h.setAttribute("data-overflow", String(h.scrollWidth > window.innerWidth));
  h.setAttribute("data-wide", wide.slice(0, 5).join(" "));
  h.setAttribute("data-styled", wrap ? getComputedStyle(wrap).maxWidth : "none");
  h.setAttribute("data-sheets", document.styleSheets.length);
});
</script>`

// TestThemeInBrowser loads pages of the example site in headless
// Chromium at a phone's and a desktop's width and checks that the
// fingerprinted stylesheet loads (its integrity hash matches) and that no
// element sticks out sideways.
func TestThemeInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	out, _ := exampleSite(t)
	srv := browsertest.Serve(t, out, "/rounds", probe)
	pages := []string{"", "notes/dexamethasone-covid-19-oxygen/", "notes/sprint-intensive-blood-pressure/", "editions/no-3-respiratory-season-and-second-looks/", "topics/vaccines/", "evidence/", "archive/", "wire/", "sources/", "subscribe/", "search/"}
	for _, width := range []string{"375", "1024"} {
		for _, page := range pages {
			d := browsertest.DumpDOM(t, chromium, srv.URL+"/rounds/"+page, width)
			if browsertest.Attr(d, "data-viewport") == "" {
				t.Fatalf("/%s at %s px: the probe did not run:\n%.500s", page, width, d)
			}
			if browsertest.Attr(d, "data-styled") != "672px" { // .wrap's max-width: 42rem
				t.Errorf("/%s at %s px: stylesheet not applied (.wrap max-width %q)", page, width, browsertest.Attr(d, "data-styled"))
			}
			if browsertest.Attr(d, "data-overflow") != "false" || browsertest.Attr(d, "data-wide") != "" {
				t.Errorf("/%s at %s px: content overflows the viewport (%s)", page, width, browsertest.Attr(d, "data-wide"))
			}
		}
	}
}

// attackProbe opens every <details>, fires the events that payloads hang
// on, lets the timers run, and records whether any payload ran (they all
// set window.__pwned) and what active elements are on the page.
const attackProbe = `<script>
window.addEventListener("load", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  document.querySelectorAll("body *").forEach(function (el) {
    ["focus", "mouseover", "mouseenter", "pointerover", "animationstart", "toggle"].forEach(function (type) {
      try { el.dispatchEvent(new Event(type, {bubbles: true})); } catch (e) {}
    });
  });
  setTimeout(function () {
    var h = document.documentElement;
    h.setAttribute("data-pwned", String(window.__pwned));
    // The site's own search box, in the header before <main>, is the one form a page may have.
    var own = document.querySelector("body > header.site-header form.site-search");
    h.setAttribute("data-active", [].filter.call(document.querySelectorAll("iframe, object, embed, form, input, svg, math, base, meta[http-equiv], link[rel=stylesheet]:not([integrity])"), function (el) { return !own || !own.contains(el); }).length);
    h.setAttribute("data-scripts", document.scripts.length);
    h.setAttribute("data-probed", "yes");
  }, 1000);
});
</script>`

// TestWireAttacksInBrowser builds wire pages from a feed full of attack
// vectors and loads them in headless Chromium: no payload may run.
func TestWireAttacksInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	feedSrv := wireServer(t)
	dir := wireProject(t, feedSrv.URL)
	fetch(t, dir)
	mustBuild(t, dir)
	srv := browsertest.Serve(t, filepath.Join(dir, "public"), "/newsletter", attackProbe)
	for _, page := range []string{"wire/", "wire/safety/", "sources/"} {
		d := browsertest.DumpDOM(t, chromium, srv.URL+"/newsletter/"+page, "1024")
		if browsertest.Attr(d, "data-probed") != "yes" {
			t.Fatalf("/%s: the probe did not run:\n%.500s", page, d)
		}
		if p := browsertest.Attr(d, "data-pwned"); p != "undefined" {
			t.Errorf("/%s: a payload ran (window.__pwned = %s)", page, p)
		}
		if n := browsertest.Attr(d, "data-active"); n != "0" {
			t.Errorf("/%s: %s active elements (frames, forms, SVG…) on the page", page, n)
		}
		if n := browsertest.Attr(d, "data-scripts"); n != "1" { // the probe
			t.Errorf("/%s: %s scripts on the page, want only the probe", page, n)
		}
		if page == "wire/safety/" && !strings.Contains(d, "Acme Nutrition Recalls Infant Formula") {
			t.Errorf("/%s: the hostile feed's stories are not on the page", page)
		}
	}
}

// TestAccessibility runs axe-core's WCAG 2.2 A and AA rules in headless
// Chromium on the example site's pages, at a phone's and a desktop's
// width: no violations.
func TestAccessibility(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	axe := browsertest.AxeScript(t, "..")
	out, _ := exampleSite(t)
	srv := browsertest.Serve(t, out, "/rounds", browsertest.AxeProbe, axe)
	pages := []string{"", "notes/", "notes/dexamethasone-covid-19-oxygen/", "notes/depression-treatment-choices-nice/", "editions/no-3-respiratory-season-and-second-looks/",
		"archive/", "topics/", "topics/vaccines/", "audiences/patients/", "evidence/", "wire/", "sources/", "subscribe/", "search/"}
	for _, width := range []string{"375", "1024"} {
		for _, page := range pages {
			dom := browsertest.DumpDOM(t, chromium, srv.URL+"/rounds/"+page, width)
			got := html.UnescapeString(browsertest.Attr(dom, "data-axe"))
			if got != "[]" {
				t.Errorf("/%s at %s px: axe-core: %s", page, width, got)
			}
		}
	}
	// The wire, with stories from real-world-shaped feeds.
	feedSrv := wireServer(t)
	dir := wireProject(t, feedSrv.URL)
	fetch(t, dir)
	mustBuild(t, dir)
	wsrv := browsertest.Serve(t, filepath.Join(dir, "public"), "/newsletter", browsertest.AxeProbe, axe)
	for _, page := range []string{"wire/", "wire/nutrition/", "sources/", "notes/upf-dementia/"} {
		dom := browsertest.DumpDOM(t, chromium, wsrv.URL+"/newsletter/"+page, "1024")
		if got := html.UnescapeString(browsertest.Attr(dom, "data-axe")); got != "[]" {
			t.Errorf("/%s: axe-core: %s", page, got)
		}
	}
}

// TestEvidenceFilter filters a topic page's notes by the strength of
// their evidence in headless Chromium.
func TestEvidenceFilter(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	out, _ := exampleSite(t)
	srv := browsertest.Serve(t, out, "/rounds", "")
	page := browsertest.Open(t, chromium, srv.URL+"/rounds/topics/infectious-disease/")
	// The filter shows itself once its script has run.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s, err := page.Eval(`document.readyState === "complete" && !document.querySelector(".evidence-filter").hidden`); err == nil && s == "true" {
			break
		}
		if time.Now().After(deadline) {
			dbg, _ := page.Eval(`JSON.stringify(performance.getEntriesByType("resource").map(e => e.name + " " + e.responseStatus))`)
			t.Fatalf("the filter never showed (resources: %s)", dbg)
		}
	}
	all, err := page.Eval(`JSON.stringify([...document.querySelectorAll(".cards > li .card")].map(c => c.dataset.strength || ""))`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := page.Eval(`(function () {
  var f = document.querySelector(".evidence-filter");
  if (f.hidden) return "hidden";
  f.querySelector("input[value=strong]").checked = true;
  f.dispatchEvent(new Event("change", {bubbles: true}));
  return JSON.stringify([...document.querySelectorAll(".cards > li")].filter(li => !li.hidden).map(li => li.querySelector(".card").dataset.strength));
})()`)
	if err != nil {
		t.Fatal(err)
	}
	var every, shown []string
	json.Unmarshal([]byte(all), &every)
	if err := json.Unmarshal([]byte(got), &shown); err != nil {
		t.Fatalf("the filter: %s", got)
	}
	strong := 0
	for _, s := range every {
		if s == "strong" {
			strong++
		}
	}
	if strong == 0 || strong == len(every) || len(shown) != strong || slices.ContainsFunc(shown, func(s string) bool { return s != "strong" }) {
		t.Errorf("notes %v; the filter for strong evidence shows %v", every, shown)
	}
}

// TestSignupForm fills in the example site's sign-up form in headless
// Chromium, without any script of the site's, and checks what reaches the
// subscribers service: the address, the lists ticked and an empty trap
// field, posted as a plain form.
func TestSignupForm(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	got := make(chan url.Values, 1)
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/lists/subscribe" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		select {
		case got <- r.PostForm:
		default:
		}
		io.WriteString(w, "<!DOCTYPE html><title>Check your email</title><p>Check your email.")
	}))
	t.Cleanup(service.Close)
	example, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(example), `url = "https://example.org/rounds/lists/"`, fmt.Sprintf("url = %q", service.URL+"/lists/"), 1)
	if cfg == string(example) {
		t.Fatal("the example's config.toml has no [subscribers] url to replace")
	}
	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join("..", d))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir)
	srv := browsertest.Serve(t, filepath.Join(dir, "public"), "/rounds", "")
	page := browsertest.Open(t, chromium, srv.URL+"/rounds/editions/no-3-respiratory-season-and-second-looks/")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s, err := page.Eval(`document.readyState === "complete" && !!document.querySelector(".signup form")`); err == nil && s == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the edition page has no sign-up form")
		}
	}
	if _, err := page.Eval(`(function () {
  var f = document.querySelector(".signup form");
  f.querySelector("input[type=email]").value = "reader@example.net";
  f.querySelector("input[value=clinicians]").checked = true;
  f.querySelector("button[type=submit]").click();
  return "ok";
})()`); err != nil {
		t.Fatal(err)
	}
	select {
	case form := <-got:
		if form.Get("email") != "reader@example.net" || !slices.Equal(form["list"], []string{"clinicians"}) || form.Get("website") != "" {
			t.Errorf("the service got %v", form)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the form never reached the service")
	}
}

// TestServicePagesInBrowser loads each page of the subscribers service,
// rendered in the site's look, in headless Chromium at a phone's and a
// desktop's width: the stylesheet applies, nothing overflows, and axe-core
// finds nothing.
func TestServicePagesInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	axe := browsertest.AxeScript(t, "..")
	out, _ := exampleSite(t)
	cfg, err := config.LoadConfig(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Load(cfg, &site.Options{Now: testproject.Now})
	if err != nil {
		t.Fatal(err)
	}
	th, err := theme.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store, err := subscribers.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("a-long-enough-test-secret")
	svc := &subscribers.Service{Store: store, Secret: secret, Title: cfg.Title, Lists: map[string]string{"everything": "Every note", "clinicians": "For clinicians"},
		Pages: &render.ServicePages{Site: s, Theme: th}, Now: func() time.Time { return testproject.Now }}
	files := http.StripPrefix("/rounds", http.FileServer(http.Dir(out)))
	service := http.StripPrefix("/rounds/_subscribers", svc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/_axe.js":
			http.ServeFile(w, r, axe)
		case strings.HasPrefix(r.URL.Path, "/rounds/_subscribers/"):
			// The service's page with the probes, which its own
			// Content-Security-Policy would block.
			rec := httptest.NewRecorder()
			service.ServeHTTP(rec, r)
			w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
			w.WriteHeader(rec.Code)
			io.WriteString(w, strings.Replace(rec.Body.String(), "</body>", probe+browsertest.AxeProbe+"</body>", 1))
		default:
			files.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	token := func(p subscribers.Purpose, expires time.Time) string {
		tok, err := subscribers.Sign(secret, subscribers.Token{Purpose: p, Key: subscribers.Key(secret, "a@example.net"), Lists: []string{"everything", "clinicians"}, Ref: "x", Expires: expires})
		if err != nil {
			t.Fatal(err)
		}
		return url.QueryEscape(tok)
	}
	later := testproject.Now.Add(time.Hour)
	pages := map[string]string{
		"confirm?token=" + token(subscribers.PurposeConfirm, later):         "service-confirm",
		"unsubscribe?token=" + token(subscribers.PurposeUnsubscribe, later): "service-unsubscribe",
		"subscribe?sent": "service-sent",
		"confirm?token=" + token(subscribers.PurposeConfirm, testproject.Now.Add(-time.Hour)): "service-expired",
		"unsubscribe?token=altered": "service-invalid",
		"elsewhere":                 "service-not-found",
	}
	for _, width := range []string{"375", "1024"} {
		for page, class := range pages {
			d := browsertest.DumpDOM(t, chromium, srv.URL+"/rounds/_subscribers/"+page, width)
			if !strings.Contains(d, `class="service `+class+`"`) {
				t.Errorf("%s at %s px: not the page %s:\n%.800s", class, width, class, d)
				continue
			}
			if browsertest.Attr(d, "data-styled") != "672px" {
				t.Errorf("%s at %s px: stylesheet not applied (.wrap max-width %q)", class, width, browsertest.Attr(d, "data-styled"))
			}
			if browsertest.Attr(d, "data-overflow") != "false" {
				t.Errorf("%s at %s px: content overflows the viewport (%s)", class, width, browsertest.Attr(d, "data-wide"))
			}
			if got := html.UnescapeString(browsertest.Attr(d, "data-axe")); got != "[]" {
				t.Errorf("%s at %s px: axe-core: %s", class, width, got)
			}
		}
	}
}

// navMeasure measures the header's navigation, as JSON: how many items
// it has, on how many lines they sit (their distinct offsetTop), its
// height and an item's, whether it sits beside the site's title, and
// which items wrap inside themselves or stick out of the viewport.
const navMeasure = `(function () {
  var nav = document.querySelector(".site-nav"), title = document.querySelector(".site-title");
  var tops = {}, broken = [], out = [];
  nav.querySelectorAll("li").forEach(function (li) {
    tops[li.offsetTop] = true;
    var a = li.querySelector("a"), r = a.getBoundingClientRect();
    if (a.getClientRects().length > 1) broken.push(a.textContent);
    if (r.left < 0 || r.right > window.innerWidth) out.push(a.textContent);
  });
  var n = nav.getBoundingClientRect(), tt = title.getBoundingClientRect();
  return JSON.stringify({viewport: window.innerWidth, items: nav.querySelectorAll("li").length,
    lines: Object.keys(tops).length, height: Math.round(n.height),
    line: Math.round(nav.querySelector("li").getBoundingClientRect().height),
    beside: n.top < tt.bottom && n.left >= tt.right, broken: broken, out: out,
    overflow: document.documentElement.scrollWidth > window.innerWidth});
})()`

// TestNavInBrowser opens pages of the example in headless Chromium and
// measures the header's navigation: at 1280 px its items sit on one line
// beside the site's title; at 375 px they may wrap onto more lines, but
// each item stays whole and inside the viewport.
func TestNavInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	out, _ := exampleSite(t)
	srv := browsertest.Serve(t, out, "/rounds", "")
	for _, page := range []string{"", "evidence/", "notes/dexamethasone-covid-19-oxygen/"} {
		p := browsertest.Open(t, chromium, srv.URL+"/rounds/"+page)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if s, err := p.Eval(`document.readyState === "complete" && document.styleSheets.length > 0`); err == nil && s == "true" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("/%s did not load", page)
			}
		}
		for _, width := range []int{1280, 375} {
			if err := p.Viewport(width, 900); err != nil {
				t.Fatal(err)
			}
			js, err := p.Eval(navMeasure)
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Viewport, Items, Lines, Height, Line int
				Beside, Overflow                     bool
				Broken, Out                          []string
			}
			if err := json.Unmarshal([]byte(js), &m); err != nil {
				t.Fatalf("/%s at %d px: %v: %s", page, width, err, js)
			}
			if m.Viewport != width {
				t.Fatalf("/%s: the viewport is %d px wide, want %d", page, m.Viewport, width)
			}
			if m.Items != 8 {
				t.Errorf("/%s at %d px: %d items in the navigation, want the example's 8", page, width, m.Items)
			}
			if len(m.Broken) > 0 || len(m.Out) > 0 || m.Overflow {
				t.Errorf("/%s at %d px: navigation items broken over two lines %q, outside the viewport %q; page wider than the viewport: %v", page, width, m.Broken, m.Out, m.Overflow)
			}
			if width == 1280 && (m.Lines != 1 || m.Height != m.Line || !m.Beside) {
				t.Errorf("/%s at 1280 px: the navigation wraps: its items on %d lines, %d px high for items %d px high; beside the title: %v %s", page, m.Lines, m.Height, m.Line, m.Beside, js)
			}
			if width == 375 && m.Lines < 2 {
				t.Errorf("/%s at 375 px: the navigation's 8 items on %d line: not measured at a phone's width", page, m.Lines)
			}
		}
	}
}
