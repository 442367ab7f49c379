package theme

import (
	"cmp"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/internal/testproject"
)

// readsPage is the data the layouts of TestReads are executed with.
type readsPage struct {
	Note    *content.Note
	Notes   []*content.Note
	Edition *content.Edition
	ByKey   map[string]*content.Note
	Any     any
}

// Latest is a method that returns a note.
func (p *readsPage) Latest() *content.Note { return nil }

// TestReads checks that the analysis of a theme finds each way a layout
// reaches a note's body, with where the value came from, and no read of
// another type's field of the same name.
func TestReads(t *testing.T) {
	t.Parallel()
	layouts := map[string]string{
		"list.html":           `{{define "main"}}{{range .Notes}}{{.Title}}` + "\n" + `{{.Content}}{{end}}{{end}}`,
		"topic.html":          `{{define "main"}}{{with $n := .Latest}}{{$n.Content}}{{end}}{{template "partials/own.html" .Note}}{{end}}`,
		"partials/own.html":   "<div>\n{{.Content}}</div>",
		"search.html":         `{{define "main"}}{{partialCached "partials/keyed.html" (index .ByKey "a")}}{{end}}`,
		"partials/keyed.html": `{{.Content}}`,
		"sources.html":        `{{define "main"}}{{.Edition.Content}}{{.Any.Content}}{{end}}`,
		"404.html":            `{{define "main"}}{{.Note.Title}}{{with .Edition}}{{.Content}}{{end}}{{end}}`,
	}
	files := map[string]string{"config.toml": "theme = \"mine\"\n" + testproject.Config}
	for name, text := range layouts {
		files["themes/mine/layouts/"+name] = text
	}
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	th, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []Read
	for _, r := range th.Reads(reflect.TypeFor[readsPage](), reflect.TypeFor[content.Note](), "Content") {
		if _, ours := layouts[r.Layout+".html"]; ours {
			got = append(got, r)
		}
	}
	want := []Read{
		{Layout: "list", File: "themes/mine/layouts/list.html", Line: 2},
		{Layout: "search", File: "themes/mine/layouts/partials/keyed.html", Line: 1},
		{Layout: "sources", File: "themes/mine/layouts/sources.html", Line: 1, Unknown: true},
		{Layout: "topic", File: "themes/mine/layouts/partials/own.html", Line: 2, From: ".Note"},
		{Layout: "topic", File: "themes/mine/layouts/topic.html", Line: 1},
	}
	slices.SortFunc(got, func(a, b Read) int {
		return cmp.Or(strings.Compare(a.Layout, b.Layout), strings.Compare(a.File, b.File))
	})
	if !slices.Equal(got, want) {
		t.Errorf("reads:\n got %+v\nwant %+v", got, want)
	}
}
