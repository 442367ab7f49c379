package generator

import (
	"bytes"
	stdtemplate "html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestThemeAsStandardLibrary renders every page of the example site, as
// published and as previewed with drafts, with the theme's template
// engine (the fork in internal/template) and with the standard library's
// html/template, and wants the same bytes from both.
func TestThemeAsStandardLibrary(t *testing.T) {
	t.Parallel()
	cfg, err := LoadConfig(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	theme, err := LoadTheme(cfg, templateFuncs(cfg))
	if err != nil {
		t.Fatal(err)
	}
	std := standardLayouts(t, cfg, theme)
	for _, opts := range []*Options{{Now: testNow}, {Now: testNow, Drafts: true, Future: true}} {
		site, err := LoadContent(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		w := site.newWriter(theme, opts)
		site.plan(w, opts)
		pages := 0
		for _, j := range w.jobs {
			if j.page == nil {
				continue
			}
			pages++
			var got, want bytes.Buffer
			if err := theme.execute(&got, j.page.Kind, j.page); err != nil {
				t.Fatalf("%s: %v", j.path, err)
			}
			if err := std[j.page.Kind].Execute(&want, j.page); err != nil {
				t.Fatalf("%s: standard library: %v", j.path, err)
			}
			if got.String() != want.String() {
				t.Errorf("%s (drafts %v): the theme's engine and html/template differ:\n%s", j.path, opts.Drafts, firstDifference(got.String(), want.String()))
			}
		}
		if pages < 40 {
			t.Errorf("%d pages compared; the example site has some 47", pages)
		}
	}
}

// standardLayouts parses the theme's layouts with the standard library's
// html/template, as LoadTheme does with the fork, with partialCached
// rendering every time.
func standardLayouts(t *testing.T, cfg *Config, theme *Theme) map[string]*stdtemplate.Template {
	t.Helper()
	dirs, err := themeDirs(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]string{}
	for _, dir := range dirs {
		if err := cfg.walkFiles(filepath.Join(dir, "layouts"), func(rel, abs string) error {
			data, err := os.ReadFile(abs)
			sources[rel] = string(data)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	var partials *stdtemplate.Template
	root := stdtemplate.New("").Funcs(templateFuncs(cfg)).Funcs(stdtemplate.FuncMap{
		"asset":     theme.Asset,
		"integrity": theme.Integrity,
		"partialCached": func(name string, data any) (stdtemplate.HTML, error) {
			var b strings.Builder
			err := partials.ExecuteTemplate(&b, name, data)
			return stdtemplate.HTML(b.String()), err
		},
	})
	for _, name := range sortedKeys(sources) {
		if name == "base.html" || strings.HasPrefix(name, "partials/") {
			stdtemplate.Must(root.New(name).Parse(sources[name]))
		}
	}
	partials = stdtemplate.Must(root.Clone())
	layouts := map[string]*stdtemplate.Template{}
	for _, layout := range Layouts {
		tmpl := stdtemplate.Must(root.Clone())
		stdtemplate.Must(tmpl.New(layout + ".html").Parse(sources[layout+".html"]))
		layouts[layout] = tmpl.Lookup("base.html")
	}
	return layouts
}

// firstDifference shows where two texts first differ.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(0, i-80)
	return "fork:     …" + a[lo:min(len(a), i+80)] + "…\nstandard: …" + b[lo:min(len(b), i+80)] + "…"
}
