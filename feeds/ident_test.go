package feeds

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIdentify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []string
		want Identifiers
	}{
		{[]string{"doi:10.1056/NEJMoa2609876", "pmid:40123456"}, Identifiers{DOI: "10.1056/nejmoa2609876", PMID: "40123456"}},
		{[]string{"https://doi.org/10.1136/bmj-2026-081234."}, Identifiers{DOI: "10.1136/bmj-2026-081234"}},
		{[]string{"(see 10.1016/S0140-6736(26)01234-5)"}, Identifiers{DOI: "10.1016/s0140-6736(26)01234-5"}},
		{[]string{"https://www.medrxiv.org/content/10.1101/2026.10.12.26312345v2.full.pdf"}, Identifiers{DOI: "10.1101/2026.10.12.26312345"}},
		{[]string{"https://pubmed.ncbi.nlm.nih.gov/40123456/?utm_source=x"}, Identifiers{PMID: "40123456"}},
		{[]string{"PMID: 39876543. Trial NCT05123456 and NCT04999999; again NCT05123456."}, Identifiers{PMID: "39876543", NCT: []string{"NCT04999999", "NCT05123456"}}},
		{[]string{"A sample of 10.5 mg in 2,400 patients, ISSN 0959-8138"}, Identifiers{}},
		{[]string{"NCT0512345 is too short, NCT051234567 too long"}, Identifiers{}},
	} {
		var got Identifiers
		got.identify(tc.in...)
		if got.DOI != tc.want.DOI || got.PMID != tc.want.PMID || !slices.Equal(got.NCT, tc.want.NCT) {
			t.Errorf("identify(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestCleanURL(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://www.cdc.gov/mmwr/volumes/75/")
	for in, want := range map[string]string{
		"https://www.bmj.com/content/391/x?utm_source=rss&utm_medium=feed&id=7": "https://www.bmj.com/content/391/x?id=7",
		"https://pubmed.ncbi.nlm.nih.gov/40123456/?fc=20261101&ff=20261128&v=2": "https://pubmed.ncbi.nlm.nih.gov/40123456/",
		"wr/mm7545a1.htm?s_cid=mm7545a1_w":                                      "https://www.cdc.gov/mmwr/volumes/75/wr/mm7545a1.htm",
		"/media/releases/2026/p1103.html#top":                                   "https://www.cdc.gov/media/releases/2026/p1103.html#top",
		"HTTPS://WWW.FDA.GOV/Safety?fbclid=abc&gclid=d":                         "https://www.fda.gov/Safety",
		"javascript:alert(1)":                                                   "",
		"data:text/html,hi":                                                     "",
		"mailto:press@cdc.gov":                                                  "",
		"https://user:pw@evil.example/":                                         "",
	} {
		if got := CleanURL(base, in); got != want {
			t.Errorf("CleanURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestURLKey(t *testing.T) {
	t.Parallel()
	same := []string{
		"https://www.medrxiv.org/content/10.1101/2026.10.12.26312345v1",
		"http://medrxiv.org/content/10.1101/2026.10.12.26312345v1/",
		"https://www.medrxiv.org/content/10.1101/2026.10.12.26312345v1?utm_source=pubmed#abstract",
	}
	for _, u := range same[1:] {
		if URLKey(u) != URLKey(same[0]) {
			t.Errorf("URLKey(%q) = %q, want %q", u, URLKey(u), URLKey(same[0]))
		}
	}
	if URLKey("https://www.bmj.com/content/391/a?page=1") == URLKey("https://www.bmj.com/content/391/a?page=2") {
		t.Error("URLKey merged links that differ in a real parameter")
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC) }
	kinds := map[string]string{"bmj": "journal", "nih": "agency", "news": "news", "pubmed": "database", "medrxiv": "preprint"}
	mk := func(src, id, link string, d int, ids Identifiers) *Item {
		return &Item{ID: id, Source: src, URL: link, Published: day(d), Identifiers: ids}
	}
	items := []*Item{
		mk("news", "n1", "https://news.example/statins", 5, Identifiers{DOI: "10.1136/bmj-2026-081234"}),
		mk("nih", "p1", "https://www.nih.gov/news/statins", 4, Identifiers{}),
		mk("bmj", "j1", "https://www.bmj.com/content/391/bmj-2026-081234", 3, Identifiers{DOI: "10.1136/bmj-2026-081234", PMID: "40111111"}),
		mk("pubmed", "m1", "https://pubmed.ncbi.nlm.nih.gov/40111111/", 6, Identifiers{PMID: "40111111"}),
		mk("nih", "p2", "https://doi.org/10.1136/bmj-2026-081234", 4, Identifiers{DOI: "10.1136/bmj-2026-081234"}),
		mk("medrxiv", "r1", "https://www.medrxiv.org/content/10.1101/2026.10.12.26312345v1", 2, Identifiers{}),
		mk("pubmed", "m2", "http://medrxiv.org/content/10.1101/2026.10.12.26312345v1/?utm_source=pubmed", 2, Identifiers{}),
		mk("nih", "p3", "https://www.nih.gov/news/other", 1, Identifiers{NCT: []string{"NCT05123456"}}),
	}
	stories := Dedupe(items, func(it *Item) int { return KindRank(kinds[it.Source]) })
	var got [][]string
	for _, s := range stories {
		var ids []string
		for _, it := range s.Items {
			ids = append(ids, it.ID)
		}
		got = append(got, ids)
	}
	want := [][]string{
		{"j1", "p2", "m1", "n1"}, // journal, agency, database, news; newest item 6 Nov
		{"p1"},
		{"r1", "m2"},
		{"p3"},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("Dedupe = %v, want %v", got, want)
	}
	if ids := stories[0].Identifiers(); ids.DOI != "10.1136/bmj-2026-081234" || ids.PMID != "40111111" {
		t.Errorf("merged identifiers %+v", ids)
	}
	if d := stories[0].Date(); !d.Equal(day(6)) {
		t.Errorf("story date %s, want its newest item's", d)
	}
}

func TestRepairXML(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`<t>R&D &amp; more</t>`:                          `<t>R&amp;D &amp; more</t>`,
		`<l>?a=1&b=2</l>`:                                `<l>?a=1&amp;b=2</l>`,
		`<t>caf&eacute;&nbsp;x &#233; &#xE9;</t>`:        `<t>caf&#233;&#160;x &#233; &#xE9;</t>`,
		`<t><![CDATA[R&D &nbsp;]]> & </t>`:               `<t><![CDATA[R&D &nbsp;]]> &amp; </t>`,
		`<t>&unknownentity; &#xZZ; &</t>`:                `<t>&amp;unknownentity; &amp;#xZZ; &amp;</t>`,
		`<!-- a & b --><t>&lt;b&gt; &quot;</t>`:          `<!-- a & b --><t>&lt;b&gt; &quot;</t>`,
		"<t>\x1b[31mred\x1b[0m\x07\tok\r\n</t>":          "<t>[31mred[0m\tok\r\n</t>",
		"<t><![CDATA[\x1b]0;x\x07 y]]></t>":              "<t><![CDATA[]0;x y]]></t>",
		`<t>&#27;[2J &#x1B;&#0; &#9; &#xFFFE; &#65;</t>`: `<t>[2J  &#9;  &#65;</t>`,
	} {
		if got := string(repairXML([]byte(in))); got != want {
			t.Errorf("repairXML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOPMLRoundTrip(t *testing.T) {
	t.Parallel()
	in := `<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Feeds</title></head><body>
<outline text="Vaccines">
  <outline text="CDC MMWR" type="rss" xmlUrl="https://www.cdc.gov/mmwr/rss.xml" htmlUrl="https://www.cdc.gov/mmwr/"/>
  <outline text="Regulators"><outline title="FDA &amp; recalls" xmlUrl="https://www.fda.gov/recalls.xml" category="/safety,drugs"/></outline>
</outline>
<outline text="medRxiv" xmlUrl="https://connect.medrxiv.org/relate/feed/181" kind="preprint" roundsId="medrxiv-id"/>
</body></opml>`
	subs, err := ReadOPML(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Subscription{
		{Title: "CDC MMWR", FeedURL: "https://www.cdc.gov/mmwr/rss.xml", SiteURL: "https://www.cdc.gov/mmwr/", Categories: []string{"Vaccines"}},
		{Title: "FDA & recalls", FeedURL: "https://www.fda.gov/recalls.xml", Categories: []string{"Vaccines", "Regulators", "safety", "drugs"}},
		{Title: "medRxiv", FeedURL: "https://connect.medrxiv.org/relate/feed/181", Kind: "preprint", ID: "medrxiv-id"},
	}
	if !slices.EqualFunc(subs, want, equalSub) {
		t.Fatalf("ReadOPML = %+v, want %+v", subs, want)
	}
	var b strings.Builder
	if err := WriteOPML(&b, "Mine", subs); err != nil {
		t.Fatal(err)
	}
	again, err := ReadOPML(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(again, subs, equalSub) {
		t.Errorf("round trip: %+v, want %+v\n%s", again, subs, b.String())
	}
	if _, err := ReadOPML(strings.NewReader("<html><body>no</body></html>")); err == nil {
		t.Error("an HTML page read as OPML")
	}
}

func equalSub(a, b Subscription) bool {
	return a.Title == b.Title && a.FeedURL == b.FeedURL && a.SiteURL == b.SiteURL && a.Kind == b.Kind && a.ID == b.ID && slices.Equal(a.Categories, b.Categories)
}

func TestIDFrom(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 30)
	for name, want := range map[string]string{
		"CDC MMWR":                 "cdc-mmwr",
		"NHS_feed.xml":             "nhs-feed-xml",
		"  Médecine & Santé  ":     "medecine-sante",
		"BMJ: latest (research)":   "bmj-latest-research",
		"ﬁndings ①":                "findings-1",
		"——":                       "",
		"":                         "",
		"__init__":                 "init",
		long:                       strings.TrimSuffix(strings.Repeat("word-", 16), "-"),
		strings.Repeat("a", 100):   strings.Repeat("a", 80),
		"Santé publique France 2e": "sante-publique-france-2e",
	} {
		got := IDFrom(name)
		if got != want {
			t.Errorf("IDFrom(%q) = %q, want %q", name, got, want)
		}
		if got != "" && !ValidID(got) {
			t.Errorf("IDFrom(%q) = %q, which cannot name a source", name, got)
		}
		if again := IDFrom(name); again != got {
			t.Errorf("IDFrom(%q) is %q, then %q", name, got, again)
		}
	}
}
