package generator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probe is injected into each page the browser loads. Once the page has
// loaded, it records what the test checks as attributes on <html>, which
// chromium's --dump-dom then prints.
const probe = `<script>
window.addEventListener("load", function () {
  var h = document.documentElement, wrap = document.querySelector(".wrap");
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
	chromium := tool(t, "chromium", "--version")
	out := filepath.Join(t.TempDir(), "public")
	if _, err := Build(&Options{Config: filepath.Join("..", "config.toml"), Out: out, Now: testNow}); err != nil {
		t.Fatal(err)
	}
	files := http.FileServer(http.Dir(out))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/rounds")
		if strings.HasSuffix(p, "/") {
			data, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p), "index.html"))
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(strings.Replace(string(data), "</body>", probe+"</body>", 1)))
			return
		}
		r.URL.Path = p
		files.ServeHTTP(w, r)
	}))
	defer srv.Close()

	attr := func(dom, name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			return ""
		}
		return m[1]
	}
	pages := []string{"", "notes/dexamethasone-covid-19-oxygen/", "notes/sprint-intensive-blood-pressure/", "editions/no-3-respiratory-season-and-second-looks/", "topics/vaccines/", "evidence/", "archive/"}
	for _, width := range []string{"375", "1024"} {
		for _, page := range pages {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+t.TempDir(), "--window-size="+width+",900", "--virtual-time-budget=5000",
				"--dump-dom", srv.URL+"/rounds/"+page)
			dom, err := cmd.Output()
			cancel()
			if err != nil {
				t.Fatalf("chromium %s at %s px: %v", page, width, err)
			}
			d := string(dom)
			if attr(d, "data-viewport") == "" {
				t.Fatalf("/%s at %s px: the probe did not run:\n%.500s", page, width, d)
			}
			if attr(d, "data-styled") != "672px" { // .wrap's max-width: 42rem
				t.Errorf("/%s at %s px: stylesheet not applied (.wrap max-width %q)", page, width, attr(d, "data-styled"))
			}
			if attr(d, "data-overflow") != "false" || attr(d, "data-wide") != "" {
				t.Errorf("/%s at %s px: content overflows the viewport (%s)", page, width, attr(d, "data-wide"))
			}
		}
	}
}
