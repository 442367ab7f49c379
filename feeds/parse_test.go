package feeds

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

var parseNow = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// parseFile parses a file of testdata/wire as if fetched from the URL
// https://feeds.example/NAME with the content type.
func parseFile(t *testing.T, name, contentType string) []*Item {
	t.Helper()
	items, err := Parse(strings.TrimSuffix(name, ".xml"), "https://feeds.example/"+name, contentType, testdata(t, name), parseNow)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return items
}

func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// want is what a test expects of one parsed item; empty fields are not
// checked.
type want struct {
	title, url, doi, pmid, published string
	nct                              []string
}

func check(t *testing.T, file string, items []*Item, wants []want) {
	t.Helper()
	if len(items) != len(wants) {
		var titles []string
		for _, it := range items {
			titles = append(titles, it.Title)
		}
		t.Fatalf("%s: %d items, want %d: %q", file, len(items), len(wants), titles)
	}
	for i, w := range wants {
		it := items[i]
		if w.title != "" && it.Title != w.title {
			t.Errorf("%s #%d: title %q, want %q", file, i+1, it.Title, w.title)
		}
		if w.url != "" && it.URL != w.url {
			t.Errorf("%s #%d: url %q, want %q", file, i+1, it.URL, w.url)
		}
		if w.doi != "" && it.DOI != strings.ToLower(w.doi) {
			t.Errorf("%s #%d: doi %q, want %q", file, i+1, it.DOI, w.doi)
		}
		if w.pmid != "" && it.PMID != w.pmid {
			t.Errorf("%s #%d: pmid %q, want %q", file, i+1, it.PMID, w.pmid)
		}
		if w.nct != nil && !slices.Equal(it.NCT, w.nct) {
			t.Errorf("%s #%d: nct %q, want %q", file, i+1, it.NCT, w.nct)
		}
		if w.published != "" && !it.Published.Equal(date(w.published)) {
			t.Errorf("%s #%d: published %s, want %s", file, i+1, it.Published.Format(time.RFC3339), w.published)
		}
		if it.ID == "" || it.Source == "" || !it.FirstSeen.Equal(parseNow) {
			t.Errorf("%s #%d: id %q, source %q, first seen %s", file, i+1, it.ID, it.Source, it.FirstSeen)
		}
	}
}

func TestParsePubMed(t *testing.T) {
	t.Parallel()
	items := parseFile(t, "pubmed.xml", "application/rss+xml")
	check(t, "pubmed.xml", items, []want{
		{title: "Intensive Blood-Pressure Lowering after Intracerebral Hemorrhage in Adults Aged ≥75 Years", url: "https://pubmed.ncbi.nlm.nih.gov/40123456/", pmid: "40123456", doi: "10.1056/NEJMoa2609876", nct: []string{"NCT05234567"}, published: "2026-11-03T11:00:00Z"},
		{pmid: "40123457", doi: "10.1001/jama.2026.18234", nct: []string{"NCT04999999"}, published: "2026-11-02T11:00:00Z"},
		{url: "https://www.medrxiv.org/content/10.1101/2026.10.12.26312345v1", pmid: "40123458", doi: "10.1101/2026.10.12.26312345", published: "2026-10-14T10:00:00Z"},
		{url: "http://medrxiv.org/content/10.1101/2026.10.20.26313001v2/", pmid: "40123459", published: "2026-10-27T10:00:00Z"},
	})
	if !slices.Contains(items[0].Authors, "Hannah R Okafor") {
		t.Errorf("authors %q", items[0].Authors)
	}
}

func TestParseEncodings(t *testing.T) {
	t.Parallel()
	check(t, "mmwr", parseFile(t, "mmwr-windows1252.xml", "application/rss+xml"), []want{
		{title: "Children’s Blood Lead Levels of 3.5 µg/dL or Higher After Use of Imported Ground Cinnamon – Ohio, June–September 2026", url: "https://www.cdc.gov/mmwr/volumes/75/wr/mm7543a1.htm", published: "2026-11-05T18:00:00Z"},
		{title: "Outbreak of Salmonella Infections Linked to a Café’s “Homemade” Mayonnaise – New Mexico, 2026"},
		{title: "Influenza Vaccination Coverage Among Pregnant Women – United States, 2025–26 Season", published: "2026-10-29T17:00:00Z"},
	})
	check(t, "latin1", parseFile(t, "latin1-undeclared.xml", "text/xml"), []want{
		{title: "Heat-related emergency admissions above 30 °C in Zürich and Genève, summer 2026", url: "https://smw.ch/index.php/smw/article/view/4187", published: "2026-11-09T07:00:00Z"},
		{title: "Müller et al.: Cuffless blood-pressure watches read ±12 mmHg off in a validation study"},
	})
	for _, ct := range []string{"application/rss+xml", "application/rss+xml; charset=ISO-8859-1"} {
		check(t, "lying-latin1 as "+ct, parseFile(t, "lying-latin1.xml", ct), []want{
			{title: "Betahistine no better than placebo for Ménière’s disease, trial finds", published: "2026-11-11T10:00:00Z"},
			{title: "RSV vaccine uptake in adults aged ≥65 years – winter 2026 update"},
		})
	}
	check(t, "bare-ampersand", parseFile(t, "bare-ampersand.xml", ""), []want{
		{title: "Mothers & Babies: New study on postpartum hypertension—what clinicians need to know", url: "https://www.nichd.nih.gov/newsroom/news/index.cfm?page=news&id=1110", published: "2026-11-10T14:00:00Z"},
		{title: "R&D spending on maternal vaccines rises – café talk with Dr. Siobhán O’Neill", url: "https://www.nichd.nih.gov/newsroom/news/index.cfm?page=news&id=1109&year=2026"},
		{title: "Safe Sleep & SIDS: “Back to Sleep” turns 32", url: "https://www.nichd.nih.gov/newsroom/news/index.cfm?page=news&id=1108"},
	})
}

func TestParseRelativeURLs(t *testing.T) {
	t.Parallel()
	atom := parseFile(t, "atom-xmlbase.xml", "application/atom+xml")
	check(t, "atom-xmlbase", atom, []want{
		{title: "Dengue: WHO scales up support as cases surge across the Americas", url: "https://www.who.int/news/item/2026-11-03-dengue", published: "2026-11-03T09:00:00Z"},
		{title: "Marburg virus disease – United Republic of Tanzania", url: "https://www.who.int/emergencies/disease-outbreak-news/item/2026-DON612"},
		{url: "https://www.who.int/news/item/2026-11-05-malaria-vaccine-prequalification", published: "2026-11-05T16:30:00Z"},
	})
	html := func(it *Item) string { return it.Summary + it.Content }
	for i, links := range [][]string{
		{"https://www.who.int/images/map.png", "https://www.who.int/news/item/2026-10-20-arboviral-guidelines", "https://www.who.int/emergencies/situations/dengue"},
		{"https://www.who.int/emergencies/situations/marburg/map.png", "https://www.who.int/emergencies/disease-outbreak-news/item/2025-DON548"},
		{"https://www.who.int/news/item/2026-10-02-world-malaria-report", "https://www.who.int/images/malaria-vaccine.jpg"},
	} {
		for _, l := range links {
			if !strings.Contains(html(atom[i]), `"`+l+`"`) {
				t.Errorf("atom-xmlbase #%d: no link to %s in %s", i+1, l, html(atom[i]))
			}
		}
	}
	rss := parseFile(t, "rss-relative.xml", "application/rss+xml")
	check(t, "rss-relative", rss, []want{
		{url: "https://www.mhra.gov.uk/drug-safety-update/valproate-2026", published: "2026-11-09T11:00:00Z"},
		{url: "https://www.mhra.gov.uk/drug-safety-update/isotretinoin-2026"},
	})
	for i, links := range [][]string{
		{"https://www.mhra.gov.uk/media/valproate-pregnancy-infographic.png", "https://assets.publishing.service.gov.uk/media/valproate-risk-form-2026.pdf", "https://www.mhra.gov.uk/yellow-card"},
		{"https://www.mhra.gov.uk/media/isotretinoin-checklist.png", "https://www.mhra.gov.uk/drug-safety-update/isotretinoin-2026#patient-guide"},
	} {
		for _, l := range links {
			if !strings.Contains(html(rss[i]), `"`+l+`"`) {
				t.Errorf("rss-relative #%d: no link to %s in %s", i+1, l, html(rss[i]))
			}
		}
	}
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	check(t, "rdf", parseFile(t, "rdf.xml", "application/rdf+xml"), []want{
		{title: "Nirsevimab Effectiveness Against RSV-Associated Hospitalization in Infants, 2025–26 Season: A Test-Negative Study", doi: "10.1101/2026.10.12.26312345", published: "2026-10-14T00:00:00Z", url: "http://medrxiv.org/cgi/content/short/2026.10.12.26312345v1"},
		{doi: "10.1101/2026.10.15.26312702"},
		{doi: "10.1101/2026.10.19.26312955"},
	})
	j10 := parseFile(t, "jsonfeed10.json", "application/json")
	check(t, "jsonfeed10", j10, []want{
		{doi: "10.1016/S0140-6736(26)01234-5", published: "2026-11-06T23:30:00Z", url: "https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(26)01234-5/fulltext"},
		{title: "Global, regional, and national burden of antimicrobial resistance, 1990–2025: a systematic analysis", published: "2026-10-30T23:30:00Z"},
	})
	j11 := parseFile(t, "jsonfeed11.json", "application/feed+json")
	check(t, "jsonfeed11", j11, []want{
		{title: "Meeting highlights from the Committee for Medicinal Products for Human Use (CHMP) 9-12 November 2026", published: "2026-11-13T12:00:00Z"},
		{title: "PRAC starts review of suicidal ideation with finasteride and dutasteride"},
		{published: "2026-10-30T08:00:00Z"},
	})
	if len(j11[0].Enclosures) != 2 || j11[2].Enclosures[0].Type != "audio/mpeg" || j11[2].Enclosures[0].Length != 31457280 {
		t.Errorf("jsonfeed11 attachments: %+v / %+v", j11[0].Enclosures, j11[2].Enclosures)
	}
	enc := parseFile(t, "enclosures.xml", "application/rss+xml")
	check(t, "enclosures", enc, []want{{title: "Managing Hypertriglyceridemia in 2026", doi: "10.1001/jama.2026.17702"}, {}})
	if e := enc[0].Enclosures; len(e) != 1 || e[0].Length != 28734567 || e[0].Type != "audio/mpeg" || !strings.Contains(e[0].URL, "dest-id=412345") {
		t.Errorf("enclosure: %+v", e)
	}
}

func TestParseDates(t *testing.T) {
	t.Parallel()
	items := parseFile(t, "dates-odd.xml", "application/rss+xml")
	check(t, "dates-odd", items, []want{
		{published: "2026-11-03T14:00:00Z"},
		{published: "2026-11-04T00:00:00Z"},
		{published: "2026-11-05T00:00:00Z"},
		{published: "2026-11-05T14:30:00Z"},
		{published: "2026-11-05T10:00:00Z"},
		{published: parseNow.Format(time.RFC3339)},
		{published: parseNow.Format(time.RFC3339)},
	})
	for i, it := range items {
		if it.Undated != (i >= 5) {
			t.Errorf("dates-odd #%d: undated %v", i+1, it.Undated)
		}
	}
	// An undated item keeps the date it was first seen on.
	later := parseNow.Add(48 * time.Hour)
	again, err := Parse("dates-odd", "https://feeds.example/dates-odd.xml", "", testdata(t, "dates-odd.xml"), later)
	if err != nil {
		t.Fatal(err)
	}
	merged, added := merge(items, again, 0)
	if added != 0 {
		t.Errorf("a re-fetch added %d items", added)
	}
	for _, it := range merged {
		if it.Undated && (!it.Published.Equal(parseNow) || !it.FirstSeen.Equal(parseNow)) {
			t.Errorf("undated %q: published %s, first seen %s after a re-fetch; want both %s", it.Title, it.Published, it.FirstSeen, parseNow)
		}
	}
}

func TestParseDuplicateGUIDs(t *testing.T) {
	t.Parallel()
	check(t, "duplicate-guids", parseFile(t, "duplicate-guids.xml", ""), []want{
		{title: "UPDATE: Vireo Infusion Pumps: Software Error May Cause Over-Infusion - Class I Recall", published: "2026-11-09T21:00:00Z"},
		{title: "FDA Warns About Dosing Errors With Compounded Semaglutide Products"},
	})
}

func TestParseBroken(t *testing.T) {
	t.Parallel()
	for name, wantErr := range map[string]string{
		"challenge.html": "web page, not a feed",
		"not-a-feed.txt": "not a feed",
	} {
		_, err := Parse("x", "https://feeds.example/"+name, "text/html", testdata(t, name), parseNow)
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: error %v, want %q", name, err, wantErr)
		}
	}
	// A truncated feed keeps what it got, or fails; it never panics, and
	// the item it got whole is exact.
	items, err := Parse("lancet", "https://feeds.example/malformed.xml", "", testdata(t, "malformed.xml"), parseNow)
	if err == nil {
		if len(items) == 0 || items[0].DOI != "10.1016/s0140-6736(26)01301-6" || items[0].URL != "https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(26)01301-6/fulltext" {
			t.Errorf("malformed.xml: %d items, first %+v", len(items), items)
		}
	}
}

func TestParseHostile(t *testing.T) {
	t.Parallel()
	items := parseFile(t, "hostile.xml", "application/rss+xml")
	check(t, "hostile", items, []want{
		{title: "Acme Nutrition Recalls Infant Formula"},
		{title: "Class I recall: Vireo infusion pump batteries may fail without alarm"},
		{title: "SunCare Mineral SPF 50 Sunscreen Spray Recalled for Benzene"},
		{title: `Voluntary recall of "SafeSleep" baby monitors">`},
		{title: "Pureline Saline Nasal Spray Recalled Due to Microbial Contamination"},
		{title: "Brightwell Lubricant Eye Drops Recalled Due to Lack of Sterility Assurance", url: ""},
	})
	if items[5].URL != "" {
		t.Errorf("a javascript: item link became %q", items[5].URL)
	}
	banned := map[string]bool{"script": true, "iframe": true, "object": true, "embed": true, "form": true, "input": true,
		"button": true, "meta": true, "base": true, "link": true, "style": true, "svg": true, "math": true, "template": true,
		"details": true, "video": true, "audio": true, "noscript": true}
	for i, it := range items {
		body := it.Summary + it.Content
		if !strings.Contains(body, `src="https://www.fda.gov/files/recall.jpg"`) || !strings.Contains(body, `alt="Recalled product"`) {
			t.Errorf("hostile #%d: the legitimate image was lost: %s", i+1, body)
		}
		if !strings.Contains(body, `href="https://www.fda.gov/`) {
			t.Errorf("hostile #%d: the legitimate link was lost: %s", i+1, body)
		}
		if strings.Contains(strings.ToLower(body), "position:fixed") {
			t.Errorf("hostile #%d: an overlay survived", i+1)
		}
		z := xhtml.NewTokenizer(strings.NewReader(body))
		for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() {
			if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if banned[tok.Data] {
				t.Errorf("hostile #%d: <%s> survived", i+1, tok.Data)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "srcdoc" || a.Key == "formaction" || strings.Contains(a.Key, "href") && a.Key != "href" {
					t.Errorf("hostile #%d: attribute %s on <%s> survived", i+1, a.Key, tok.Data)
				}
				if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
					t.Errorf("hostile #%d: %s=%q on <%s>", i+1, a.Key, a.Val, tok.Data)
				}
			}
		}
	}
	if !strings.Contains(items[4].Summary+items[4].Content, "&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
		t.Errorf("hostile #5: the double-escaped script is not shown as text: %s", items[4].Summary)
	}
}

// controls returns the fields of v, an item, whose text holds a control
// character: any at all in a one-line field, any but tab, line feed and
// carriage return in the HTML of Summary and Content.
func controls(v reflect.Value, path string) []string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return controls(v.Elem(), path)
	case reflect.Struct:
		var bad []string
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				bad = append(bad, controls(v.Field(i), path+"."+v.Type().Field(i).Name)...)
			}
		}
		return bad
	case reflect.Slice:
		var bad []string
		for i := range v.Len() {
			bad = append(bad, controls(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return bad
	case reflect.String:
		html := strings.HasSuffix(path, ".Summary") || strings.HasSuffix(path, ".Content")
		for _, r := range v.String() {
			if isControl(r) && !(html && (r == '\t' || r == '\n' || r == '\r')) {
				return []string{fmt.Sprintf("%s %q", path, v.String())}
			}
		}
	}
	return nil
}

func TestParseDropsControls(t *testing.T) {
	t.Parallel()
	const esc = "\x1b[31m\x1b]0;title\x07\u009b2J\x7f"
	jsonFeed, _ := json.Marshal(map[string]any{
		"version": "https://jsonfeed.org/version/1.1",
		"title":   "Feed" + esc,
		"items": []map[string]any{{
			"id":           "guid" + esc,
			"url":          "https://feeds.example/a" + esc,
			"title":        esc + "Recall\tof\x00 batch" + esc + " 42",
			"summary":      "<p>sum" + esc + "mary &#27;[1m</p>",
			"content_html": "<p title=\"t" + esc + "\">con" + esc + "tent</p>\n<pre>a\tb</pre>",
			"authors":      []map[string]any{{"name": "Dr" + esc + " Who"}},
			"tags":         []string{"tag" + esc},
			"attachments":  []map[string]any{{"url": "https://feeds.example/a.mp3" + esc, "mime_type": "audio/mpeg" + esc}},
		}},
	})
	rss := `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>x</title><link>https://feeds.example/</link>
<item><title>` + esc + `Recall of batch` + esc + ` 42</title><link>https://feeds.example/b` + esc + `</link>
<guid isPermaLink="false">g` + esc + `</guid><dc:creator>Dr` + esc + ` Who</dc:creator><category>tag` + esc + `</category>
<description>&lt;p&gt;sum&amp;#27;[1mmary` + "\u009b" + `&lt;/p&gt;</description>
<enclosure url="https://feeds.example/b.mp3" type="audio/mpeg` + esc + `" length="1"/></item></channel></rss>`
	for name, body := range map[string][]byte{"json": jsonFeed, "rss": []byte(rss)} {
		items, err := Parse("ctl", "https://feeds.example/feed", "", body, parseNow)
		if err != nil || len(items) != 1 {
			t.Fatalf("%s: %d items, %v", name, len(items), err)
		}
		it := items[0]
		if bad := controls(reflect.ValueOf(it), name); bad != nil {
			t.Errorf("control characters survived: %q", bad)
		}
		if want := "[31m]0;title2JRecall of batch[31m]0;title2J 42"; it.Title != want {
			t.Errorf("%s: title %q, want %q", name, it.Title, want)
		}
		if len(it.Authors) != 1 || it.Authors[0] != "Dr[31m]0;title2J Who" || len(it.Categories) != 1 || it.Categories[0] != "tag[31m]0;title2J" {
			t.Errorf("%s: authors %q, categories %q", name, it.Authors, it.Categories)
		}
		if len(it.Enclosures) != 1 || it.Enclosures[0].Type != "audio/mpeg[31m]0;title2J" {
			t.Errorf("%s: enclosures %+v", name, it.Enclosures)
		}
		if !strings.Contains(it.Summary, "sum") || !strings.Contains(it.Summary, "[1m") {
			t.Errorf("%s: summary %q lost its text", name, it.Summary)
		}
	}
}

func TestCacheItemsDropControls(t *testing.T) {
	t.Parallel()
	cache := &Cache{Dir: t.TempDir()}
	// Items kept by an older Rounds, which left control characters in.
	old := `[{"id":"1","source":"old","guid":"g\u001b[2J","title":"\u001b]0;pwned\u0007Title\u009b","url":"https://feeds.example/\u001b",
		"summary":"<p>a\u001b[31m\nb</p>","content":"<p>c\u0085</p>","authors":["A\u001b[1m"],"categories":["C\u0007"],
		"enclosures":[{"url":"https://feeds.example/x\u001b","type":"audio/mpeg\u001b"}],"published":"2026-11-01T00:00:00Z","first_seen":"2026-11-01T00:00:00Z"}]`
	if err := os.WriteFile(filepath.Join(cache.Dir, "old.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	items, err := cache.Items("old")
	if err != nil || len(items) != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	if bad := controls(reflect.ValueOf(items[0]), "item"); bad != nil {
		t.Errorf("control characters survived the cache: %q", bad)
	}
	if it := items[0]; it.Title != "]0;pwnedTitle" || it.Summary != "<p>a[31m\nb</p>" {
		t.Errorf("title %q, summary %q", it.Title, it.Summary)
	}

	states := `{"old":{"url":"https://feeds.example/","last_error":"HTTP 404 Not Found\u001b[2J","moved_to":"https://feeds.example/new\u001b","items":1},
		"raw":{"url":"http://intranet.example/","last_error":"Get \"http://10.0.0.5:8080/\": dial tcp 10.0.0.5:8080: connect: connection refused"},
		"read":{"url":"http://intranet.example/","last_error":"read tcp 10.0.0.2:50122->10.0.0.5:8080: read: connection reset by peer"}}`
	if err := os.WriteFile(filepath.Join(cache.Dir, "sources.json"), []byte(states), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := cache.States()
	if err != nil {
		t.Fatal(err)
	}
	if st := got["old"]; st.LastError != "HTTP 404 Not Found[2J" || st.MovedTo != "https://feeds.example/new" {
		t.Errorf("old state: %+v", st)
	}
	for _, id := range []string{"raw", "read"} {
		if m := unsafe.FindString(got[id].LastError); m != "" || got[id].LastError == "" {
			t.Errorf("%s: an older Rounds' raw error is published: %q", id, got[id].LastError)
		}
	}
}

func TestParseCapsEntry(t *testing.T) {
	t.Parallel()
	// The title and the summary are cut inside a two-byte character ("é",
	// "ü"), the content inside the start tag of a link.
	title := "x" + strings.Repeat("é", MaxTitleBytes)
	summary := "<div><p>" + strings.Repeat("ü", MaxSummaryBytes)
	content := "<p>" + strings.Repeat("é", (MaxContentBytes-14)/2) +
		`<a href="https://feeds.example/cut"><em>linked</em></a> and the rest` + strings.Repeat("<p>more</p>", 1000)
	if cut := content[MaxContentBytes-11 : MaxContentBytes]; cut != `<a href="ht` {
		t.Fatalf("the content is cut at %q", cut)
	}
	body, _ := json.Marshal(map[string]any{
		"version": "https://jsonfeed.org/version/1.1",
		"title":   "Big",
		"items":   []map[string]any{{"id": "big", "url": "https://feeds.example/big", "title": title, "summary": summary, "content_html": content}},
	})
	items, err := Parse("big", "https://feeds.example/feed", "application/feed+json", body, parseNow)
	if err != nil || len(items) != 1 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	it := items[0]
	for _, f := range []struct {
		name, text string
		max        int
	}{
		{"title", it.Title, MaxTitleBytes},
		{"summary", it.Summary, MaxSummaryBytes + len("</p></div>")},
		{"content", it.Content, MaxContentBytes + len("</p>")},
	} {
		if len(f.text) > f.max || len(f.text) < f.max-64 {
			t.Errorf("%s: %d bytes, want a little under %d", f.name, len(f.text), f.max)
		}
		if !utf8.ValidString(f.text) || strings.ContainsRune(f.text, utf8.RuneError) {
			t.Errorf("%s: cut inside a character: %q", f.name, f.text[max(0, len(f.text)-16):])
		}
	}
	for _, f := range []struct{ name, html, suffix string }{
		{"summary", it.Summary, "ü</p></div>"},
		{"content", it.Content, "é</p>"},
	} {
		if !strings.HasSuffix(f.html, f.suffix) {
			t.Errorf("%s: ends %q, want %q", f.name, f.html[len(f.html)-32:], f.suffix)
		}
		if err := balanced(f.html); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
	}
}

// balanced reports an error if s has an end tag that closes no element,
// or elements left open.
func balanced(s string) error {
	var open []string
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			if len(open) > 0 {
				return fmt.Errorf("unclosed %q", open)
			}
			return nil
		case xhtml.StartTagToken:
			name, _ := z.TagName()
			if tag := string(name); tag != "br" && tag != "img" && tag != "hr" {
				open = append(open, tag)
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			if len(open) == 0 || open[len(open)-1] != string(name) {
				return fmt.Errorf("</%s> closes %q", name, open)
			}
			open = open[:len(open)-1]
		}
	}
}

// TestParseUntitled names an item with neither a title nor any text by
// its link's host and its day, and one with text by its first words.
func TestParseUntitled(t *testing.T) {
	t.Parallel()
	feed := `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://www.who.int/</link>
<item><link>https://www.who.int/news/item/02-12-2026-x</link><pubDate>Wed, 02 Dec 2026 09:00:00 GMT</pubDate></item>
<item><link>https://www.who.int/news/item/03-12-2026-y</link><description>Measles cases rose in the region this autumn, the agency said.</description><pubDate>Thu, 03 Dec 2026 09:00:00 GMT</pubDate></item>
</channel></rss>`
	items, err := Parse("who", "https://www.who.int/rss.xml", "application/rss+xml", []byte(feed), time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, it := range items {
		titles = append(titles, it.Title)
	}
	slices.Sort(titles)
	if want := []string{"Measles cases rose in the region this autumn, the agency said.", "who.int, 2 December 2026"}; !slices.Equal(titles, want) {
		t.Errorf("titles %q, want %q", titles, want)
	}
}
