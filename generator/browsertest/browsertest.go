// Package browsertest runs pages in headless Chromium for tests, and finds
// the external programs tests need.
package browsertest

import (
	"context"
	"fmt"
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

// Tool returns the path of an external program a test needs. The README's
// test command installs them and sets ROUNDS_REQUIRE_TOOLS=1, so there a
// missing tool fails the test; elsewhere it skips it.
func Tool(t testing.TB, name string, args ...string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil && len(args) > 0 {
		err = exec.Command(p, args...).Run()
	}
	if err != nil {
		if os.Getenv("ROUNDS_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s is needed: %v (make test installs it)", name, err)
		}
		t.Skipf("%s not available (%v); run make test to install it", name, err)
	}
	return p
}

// Serve serves the folder dir under prefix on loopback, with script
// injected at the end of every HTML page, and axe-core's script, when
// axe is set, at /_axe.js.
func Serve(t testing.TB, dir, prefix, script string, axe ...string) *httptest.Server {
	t.Helper()
	axePath := ""
	if len(axe) > 0 {
		axePath = axe[0]
	}
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_axe.js" && axePath != "" {
			http.ServeFile(w, r, axePath)
			return
		}
		p := strings.TrimPrefix(r.URL.Path, prefix)
		file := filepath.Join(dir, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			file = filepath.Join(file, "index.html")
		}
		if strings.HasSuffix(file, ".html") {
			data, err := os.ReadFile(file)
			if err != nil {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(strings.Replace(string(data), "</body>", script+"</body>", 1)))
			return
		}
		r.URL.Path = p
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// DumpDOM loads url in headless Chromium in a window width px wide and
// returns the DOM once the page has loaded and its timers have run.
func DumpDOM(t testing.TB, chromium, url, width string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profileDir(t), "--window-size="+width+",900", "--virtual-time-budget=5000",
		"--dump-dom", url)
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s at %s px: %v", url, width, err)
	}
	return string(dom)
}

// Attr returns the value of the attribute name in dom, or "".
func Attr(dom, name string) string {
	m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		return ""
	}
	return m[1]
}

// profileDir makes a Chromium profile folder for the test. It is removed
// when the test ends, after Chromium's helper processes, which outlive
// the browser a moment, have stopped writing to it.
func profileDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "rounds-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 50 && os.RemoveAll(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// AxeScript returns the path of axe-core's script, which make test
// installs with npm into .cache/axe at the repository's root; root is
// the path of that root from the test's package.
func AxeScript(t testing.TB, root string) string {
	t.Helper()
	p := filepath.Join(root, ".cache", "axe", "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("ROUNDS_REQUIRE_TOOLS") == "1" {
			t.Fatalf("axe-core is needed: %v (make test installs it)", err)
		}
		t.Skipf("axe-core not installed (%v); run make test", err)
	}
	return p
}

// HTMLValidateVersion is the html-validate make test installs.
const HTMLValidateVersion = "9.7.1"

// HTMLValidate returns the path of html-validate's command, which make
// test installs with npm into .cache/html-validate at the repository's
// root; root is the path of that root from the test's package.
func HTMLValidate(t testing.TB, root string) string {
	t.Helper()
	Tool(t, "node", "--version")
	p := filepath.Join(root, ".cache", "html-validate", "node_modules", "html-validate", "bin", "html-validate.mjs")
	_, err := os.Stat(p)
	if err == nil {
		var data []byte
		data, err = os.ReadFile(filepath.Join(root, ".cache", "html-validate", "node_modules", "html-validate", "package.json"))
		if err == nil && !strings.Contains(string(data), `"version": "`+HTMLValidateVersion+`"`) {
			err = fmt.Errorf("the installed html-validate is not version %s", HTMLValidateVersion)
		}
	}
	if err == nil {
		p, err = filepath.Abs(p)
	}
	if err != nil {
		if os.Getenv("ROUNDS_REQUIRE_TOOLS") == "1" {
			t.Fatalf("html-validate %s is needed: %v (make test installs it)", HTMLValidateVersion, err)
		}
		t.Skipf("html-validate %s not installed (%v); run make test", HTMLValidateVersion, err)
	}
	return p
}

// AxeProbe is injected into a page to run axe-core's WCAG 2.2 A and AA
// rules once it has loaded; it records the violations, as JSON, in the
// data-axe attribute of <html>, for DumpDOM to show.
const AxeProbe = `<script src="/_axe.js"></script><script>
window.addEventListener("load", function () {
  axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}).then(function (r) {
    var v = r.violations.map(function (x) { return {id: x.id, impact: x.impact, nodes: x.nodes.slice(0, 3).map(function (n) { return n.target.join(" ") + " :: " + n.failureSummary; })}; });
    document.documentElement.setAttribute("data-axe", JSON.stringify(v));
  }, function (e) { document.documentElement.setAttribute("data-axe", "error " + e); });
});
</script>`
