// Copyright 2026 The Rounds Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package template_test

import (
	stdtemplate "html/template"
	"strings"
	"testing"

	template "rounds/generator/internal/template/html"
)

// The fork escapes as the standard library does: the same templates, in
// every context, with plain and typed values, give the same output.
func TestEscapingAsStandard(t *testing.T) {
	t.Parallel()
	data := map[string]any{
		"S":    `O'Reilly & <Sons> "quoted" +1 javascript:alert(1)`,
		"URL":  `https://example.org/a b?q=1&r=<2>#frag`,
		"Bad":  `javascript:alert(1)`,
		"HTML": stdtemplate.HTML(`<em>trusted</em>`),
		"Safe": stdtemplate.URL(`javascript:void(0)`),
		"JS":   stdtemplate.JS(`alert("x")`),
		"CSS":  stdtemplate.CSS(`color: red`),
		"N":    42,
		"List": []string{"a<", "b&", `c"`},
	}
	funcs := map[string]any{
		"partial": func(name string, v any) (any, error) { return stdtemplate.HTML("<b>" + name + "</b>"), nil },
		"plain":   func(name string, v any) (any, error) { return "<b>" + name + "</b>", nil },
		"upper":   strings.ToUpper,
	}
	for _, text := range []string{
		`<p title="{{.S}}">{{.S}} {{.HTML}} {{.N}}</p>`,
		`<a href="{{.URL}}">{{.URL}}</a><a href="{{.Bad}}">x</a><a href="{{.Safe}}">y</a><a href="/x?q={{.S}}">z</a>`,
		`<script>var s = {{.S}}; var n = {{.N}}; var j = "{{.S}}"; {{.JS}}</script>`,
		`<style>p { {{.CSS}} } a { color: {{.S}} }</style><div style="{{.CSS}}">`,
		`<img srcset="{{.URL}} 2x" alt="{{.S}}"><input value={{.S}}>`,
		`<textarea>{{.S}}</textarea><title>{{.S}}</title><!-- {{.S}} -->`,
		`{{range .List}}<li data-x="{{.}}">{{. | upper}}</li>{{end}}`,
		`{{partial "p" .}} {{plain "q" .}} <i title="{{partial "r" .}}"></i>`,
		`<meta http-equiv="refresh" content="1; url={{.Bad}}">`,
	} {
		std, err := stdtemplate.New("t").Funcs(funcs).Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		fork, err := template.New("t").Funcs(funcs).Parse(text)
		if err != nil {
			t.Fatal(err)
		}
		var want, got strings.Builder
		wantErr := std.Execute(&want, data)
		gotErr := fork.Execute(&got, data)
		if got.String() != want.String() || (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s:\n fork     %q, %v\n standard %q, %v", text, got.String(), gotErr, want.String(), wantErr)
		}
	}
}
