package content

import (
	"reflect"
	"testing"
)

// TestSiteLinks finds the links to the site's own pages, and checks that
// the quick test that spares most notes the line-by-line scan never
// spares one that has such a link.
func TestSiteLinks(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		body string
		want []SiteLink
	}{
		{"No links at all.", nil},
		{"Read [the paper](https://example.org/a) and [more](http://x.test/).", nil},
		{"See [grading](/evidence/).", []SiteLink{{"evidence/", 1}}},
		{"Line one\nSee [grading]( </evidence/#strong> ).", []SiteLink{{"evidence/", 2}}},
		{"Home: [us](/).", []SiteLink{{"", 1}}},
		{"[x]: /notes/a/?q=1\n\nUse [x].", []SiteLink{{"notes/a/", 1}}},
		{"A protocol-relative [link](//cdn.example.org/x) is not the site's.", nil},
		{"In code: `[a](/notes/b/)`, and in a fence:\n```\n[a](/notes/c/)\n```\n", nil},
		{"    [indented](/notes/d/)", nil},
		{"Two: [a](/a/) and [b](https://x.test) and [c](\t/c/)", []SiteLink{{"a/", 1}, {"c/", 1}}},
		{"Not a definition]: nor a link] (/x/)", nil},
		{"[cdn]: //cdn.example.org/x\n[home]: /", []SiteLink{{"", 2}}},
		{"At the end: [a](/a/", []SiteLink{{"a/", 1}}},
	} {
		if got := SiteLinks([]byte(c.body), 1); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v, want %v", c.body, got, c.want)
		}
		if got := scanSiteLinks([]byte(c.body), 1); len(got) > 0 && !mayLinkSite([]byte(c.body)) {
			t.Errorf("%q: the quick test spares a body with links %v", c.body, got)
		}
	}
}
