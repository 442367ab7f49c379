// Copyright 2026 The Rounds Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package template_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	stdtemplate "text/template"
	"time"

	template "rounds/generator/internal/template/text"
)

// The fork's fast paths must do what the standard library does: these
// templates are executed by both, and must give the same output, or both
// fail.

type fastInner struct{ Name string }

func (fastInner) Value() string    { return "value method" }
func (*fastInner) Pointer() string { return "pointer method" }

type fastData struct {
	Title  string
	When   time.Time
	Inner  fastInner
	PInner *fastInner
	Any    any
	Nil    *fastInner
	Map    map[string]fastInner
	List   []fastInner
	secret string
}

func (d *fastData) Method(s string) string { return "method(" + s + ")" }

var fastFuncs = map[string]any{
	"join":   func(args ...any) string { return fmt.Sprint(args...) },
	"upper":  strings.ToUpper,
	"check":  func(s string) (string, error) { return s, map[bool]error{true: errors.New("bad")}[s == "bad"] },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"format": func(layout string, t time.Time) string { return t.UTC().Format(layout) },
	"partial": func(name string, v any) (any, error) {
		return map[string]any{"empty": "", "nil": nil, "int": 0}[name], nil
	},
	"fail": func(name string, v any) (any, error) { return nil, errors.New("failed " + name) },
	"boom": func(s string) string { panic("boom " + s) },
	"keep": func() func(...any) string {
		var kept []any
		return func(args ...any) string { kept = args; return fmt.Sprint(len(kept)) }
	}(),
}

var fastCases = []string{
	`{{join .Title 1 true nil}}`,
	`{{.Title | join}}{{join}}`,
	`{{upper .Title}} {{.Title | upper | upper}}`,
	`{{check .Title}}`,
	`{{check "bad"}}`,
	`{{iso .When}} {{format "2 Jan 2006" .When}} {{.When | format "2006"}}`,
	`{{iso .Inner}}`,
	`{{upper 3}}`,
	`{{if partial "empty" .}}true{{else}}false{{end}} {{if partial "nil" .}}true{{else}}false{{end}} {{partial "int" . | printf "%T %v"}}`,
	`{{partial "empty" .}}|{{partial "nil" .}}|{{partial "int" .}}`,
	`{{fail "x" .}}`,
	`{{boom "y"}}`,
	`{{keep 1 2 3}} {{keep .Title}}`,
	`{{.Inner.Name}} {{.Inner.Value}} {{.PInner.Value}} {{.PInner.Pointer}} {{.Method "x"}}`,
	`{{range .List}}{{.Name}} {{.Value}} {{.Pointer}};{{end}}`,
	`{{range .Map}}{{.Name}} {{.Value}};{{end}}`,
	`{{with index .Map "a"}}{{.Pointer}}{{end}}`,
	`{{.Any.Name}} {{.Any.Value}}`,
	`{{.Nil.Name}}`,
	`{{.Nil.Pointer}}`,
	`{{.secret}}`,
	`{{.Missing}}`,
	`{{.Title.Length}}`,
	`{{.Map.a.Name}} {{.Map.zz}}`,
}

func fastInput() *fastData {
	in := fastInner{Name: "inner"}
	return &fastData{
		Title:  "a <b> & c",
		When:   time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC),
		Inner:  in,
		PInner: &fastInner{Name: "pointed"},
		Any:    in,
		Map:    map[string]fastInner{"a": {"map a"}, "b": {"map b"}},
		List:   []fastInner{{"one"}, {"two"}},
		secret: "hidden",
	}
}

// run executes a template just parsed, with fastInput.
func run(t interface{ Execute(io.Writer, any) error }, err error) (string, error) {
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = t.Execute(&b, fastInput())
	return b.String(), err
}

func TestFastPathsAsStandard(t *testing.T) {
	t.Parallel()
	for _, text := range fastCases {
		want, wantErr := run(stdtemplate.New("t").Funcs(fastFuncs).Parse(text))
		got, gotErr := run(template.New("t").Funcs(fastFuncs).Parse(text))
		if got != want || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\n fork     %q, %v\n standard %q, %v", text, got, gotErr, want, wantErr)
		}
		if gotErr != nil && wantErr != nil && gotErr.Error() != wantErr.Error() {
			t.Errorf("%s: fork's error %q, standard's %q", text, gotErr, wantErr)
		}
	}
}

// The caches of functions and members are shared by executions in
// parallel, as the build's workers run them.
func TestFastPathsInParallel(t *testing.T) {
	t.Parallel()
	text := strings.Join(fastCases[:6], "|") + `{{range .List}}{{.Name}}{{.Pointer}}{{end}}`
	want, wantErr := run(stdtemplate.New("t").Funcs(fastFuncs).Parse(text))
	tmpl := template.Must(template.New("t").Funcs(fastFuncs).Parse(text))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				var b strings.Builder
				err := tmpl.Execute(&b, fastInput())
				if b.String() != want || (err == nil) != (wantErr == nil) {
					errs <- fmt.Sprintf("got %q, %v; want %q, %v", b.String(), err, want, wantErr)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// Functions added after a template has run are seen by later runs.
func TestFuncsReplacedAfterRun(t *testing.T) {
	t.Parallel()
	tmpl := template.Must(template.New("t").Funcs(template.FuncMap{"f": func(s string) string { return "one " + s }}).Parse(`{{f "x"}}`))
	for _, want := range []string{"one x", "two x"} {
		var b strings.Builder
		if err := tmpl.Execute(&b, nil); err != nil || b.String() != want {
			t.Fatalf("got %q, %v; want %q", b.String(), err, want)
		}
		tmpl.Funcs(template.FuncMap{"f": func(s string) string { return "two " + s }})
	}
	clone := template.Must(tmpl.Clone())
	var b strings.Builder
	if err := clone.Execute(&b, nil); err != nil || b.String() != "two x" {
		t.Fatalf("clone: got %q, %v; want %q", b.String(), err, "two x")
	}
}
