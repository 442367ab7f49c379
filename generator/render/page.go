package render

import (
	"encoding/json"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/wire"
)

// PageData is what a layout is executed with: the site, the page being
// rendered, and what it lists.
type PageData struct {
	Site *site.Site
	// Kind is the layout: home, note, edition, list, topic, page or 404.
	Kind string
	// Path is the page's site path, such as "notes/slug/"; "" is the home page.
	Path        string
	Title       string
	Description string
	// Exactly one of these is set on note, edition, page and topic pages.
	Note    *content.Note
	Edition *content.Edition
	Page    *content.Page
	Topic   *content.Topic
	// Notes and Editions are what a list page shows, already paginated.
	Notes    []*content.Note
	Editions []*content.Edition
	// Topics are what the topics index lists.
	Topics []*content.Topic
	// WireDays are what a wire page shows, by day and source; Sources
	// what the feed-health page lists.
	WireDays  []*wire.Day
	Sources   []*content.WireSource
	Paginator *Paginator
	// Feeds are the feeds to advertise in the page's head. Pages that
	// advertise the same feeds share one FeedSet.
	Feeds *FeedSet
	// Preview is true when the site is built for a local preview.
	Preview bool
	// NoIndex is true for pages search engines should not index: every
	// page of a preview, and the 404 page.
	NoIndex bool
	// Permalink is the page's absolute URL, for canonical and Open Graph
	// links; RelPermalink its root-relative URL.
	Permalink, RelPermalink string
	// Nav is what the site's header needs to mark the current page.
	Nav Nav
	// PHI are what may identify a patient in the page's own file, which
	// a preview shows on the page.
	PHI []content.Finding
	// Service is the subscribers service's page, on its pages.
	Service *subscribers.Page
	// Search is what the search page needs, on it.
	Search *SearchPage
}

// finish fills the fields derived from the others.
func (p *PageData) finish() {
	cfg := p.Site.Config
	p.Permalink, p.RelPermalink = cfg.AbsURL(p.Path), cfg.RelURL(p.Path)
	p.Nav = Nav{Site: p.Site}
	p.NoIndex = p.Preview || p.Kind == "404" || p.Kind == "service"
	if p.Path == "archive/" || p.Path == "notes/" || p.Path == "topics/" || p.Path == "wire/" || (p.Page != nil && p.Page.Menu) {
		// Pages that are not in the navigation share one Nav, so that
		// the header is rendered once for all of them (see partialCached).
		p.Nav.Current = p.Path
	}
}

// Nav is the data of the site's header: the site and the current page's
// path, when that page is in the navigation.
type Nav struct {
	Site    *site.Site
	Current string
}

// IsHome reports whether the page is the home page.
func (p *PageData) IsHome() bool { return p.Kind == "home" }

// A Paginator places a page in a paginated list.
type Paginator struct {
	Number, Total int
	First         string // site path of page 1
	Prev, Next    string // site paths, "" at the ends
	TotalItems    int
}

// pagePath returns the site path of page n of a list whose first page is at base.
func pagePath(base string, n int) string {
	if n <= 1 {
		return base
	}
	return base + "page/" + strconv.Itoa(n) + "/" // a list of 100,000 notes has thousands of pages
}

// paginate splits items into pages of size, calling emit for each.
func paginate[T any](base string, items []T, size int, emit func(p *Paginator, items []T)) {
	total := max(1, (len(items)+size-1)/size)
	for n := 1; n <= total; n++ {
		lo, hi := (n-1)*size, min(n*size, len(items))
		p := &Paginator{Number: n, Total: total, First: base, TotalItems: len(items)}
		if n > 1 {
			p.Prev = pagePath(base, n-1)
		}
		if n < total {
			p.Next = pagePath(base, n+1)
		}
		emit(p, items[lo:hi])
	}
}

// A FeedSet is the feeds a page advertises.
type FeedSet struct {
	Links []FeedLink
}

// A FeedLink advertises one feed.
type FeedLink struct {
	Title string
	Type  string // MIME type
	Path  string // site path
}

// The schema.org types of a note's page, as JSON-LD.
type (
	ldThing struct {
		Type string `json:"@type"`
		Name string `json:"name,omitempty"`
		URL  string `json:"url,omitempty"`
	}
	ldAudience struct {
		Type         string `json:"@type"`
		AudienceType string `json:"audienceType"`
	}
	ldID struct {
		Type       string `json:"@type"`
		PropertyID string `json:"propertyID"`
		Value      string `json:"value"`
	}
	ldCitation struct {
		Type          string   `json:"@type"`
		Name          string   `json:"name,omitempty"`
		URL           string   `json:"url,omitempty"`
		Publisher     *ldThing `json:"publisher,omitempty"`
		DatePublished string   `json:"datePublished,omitempty"`
		Identifier    []ldID   `json:"identifier,omitempty"`
		SameAs        []string `json:"sameAs,omitempty"`
		// PublicationType is the study design as written; About the
		// study, in schema.org's terms where it has them.
		PublicationType string   `json:"publicationType,omitempty"`
		About           *ldStudy `json:"about,omitempty"`
		// EvidenceLevel is a guideline's grade: schema.org's
		// MedicalEvidenceLevel, A, B or C, by the grade's band.
		EvidenceLevel string `json:"evidenceLevel,omitempty"`
	}
	ldStudy struct {
		Type        string `json:"@type"`
		TrialDesign string `json:"trialDesign,omitempty"`
		StudyDesign string `json:"studyDesign,omitempty"`
	}
	ldPage struct {
		Context         string       `json:"@context"`
		Type            string       `json:"@type"`
		Name            string       `json:"name"`
		Description     string       `json:"description,omitempty"`
		URL             string       `json:"url"`
		InLanguage      string       `json:"inLanguage"`
		DatePublished   string       `json:"datePublished"`
		LastReviewed    string       `json:"lastReviewed,omitempty"`
		ReviewedBy      *ldThing     `json:"reviewedBy,omitempty"`
		MedicalAudience []ldAudience `json:"medicalAudience,omitempty"`
		About           []ldThing    `json:"about,omitempty"`
		Citation        *ldCitation  `json:"citation,omitempty"`
		IsPartOf        ldThing      `json:"isPartOf"`
		Publisher       ldThing      `json:"publisher"`
	}
)

// audienceTypes are schema.org's names for Rounds' audiences.
var audienceTypes = map[string]string{"clinicians": "Clinician", "patients": "Patient", "public": "Public"}

// studyOf returns the study a design names, in schema.org's terms: a
// MedicalTrial with its trialDesign, a MedicalObservationalStudy with its
// studyDesign; nil where schema.org has no term for it.
func studyOf(design string) *ldStudy {
	switch strings.ToLower(design) {
	case "randomised controlled trial", "randomized controlled trial", "rct":
		return &ldStudy{Type: "MedicalTrial", TrialDesign: "https://schema.org/RandomizedTrial"}
	case "cohort", "cohort study":
		return &ldStudy{Type: "MedicalObservationalStudy", StudyDesign: "https://schema.org/CohortStudy"}
	case "case series":
		return &ldStudy{Type: "MedicalObservationalStudy", StudyDesign: "https://schema.org/CaseSeries"}
	case "cross-sectional":
		return &ldStudy{Type: "MedicalObservationalStudy", StudyDesign: "https://schema.org/CrossSectional"}
	case "case-control", "case-control study", "surveillance":
		return &ldStudy{Type: "MedicalObservationalStudy", StudyDesign: "https://schema.org/Observational"}
	}
	return nil
}

// JSONLD is the schema.org description of a note's page, a MedicalWebPage,
// for search engines and health aggregators; on the home page, the
// WebSite and how to search it; "" on other pages.
func (p *PageData) JSONLD() template.JS {
	n := p.Note
	if p.IsHome() {
		return p.siteJSONLD()
	}
	if n == nil {
		return ""
	}
	cfg := p.Site.Config
	site := ldThing{Type: "WebSite", Name: cfg.Title, URL: cfg.BaseURL}
	page := ldPage{
		Context: "https://schema.org", Type: "MedicalWebPage", Name: n.Title, Description: n.Summary,
		URL: p.Permalink, InLanguage: cfg.Language, DatePublished: n.Published.In(cfg.Location()).Format(time.RFC3339),
		IsPartOf: site, Publisher: ldThing{Type: "Organization", Name: cfg.Title, URL: cfg.BaseURL},
	}
	if !n.LastReviewed.IsZero() {
		page.LastReviewed = n.LastReviewed.In(cfg.Location()).Format("2006-01-02")
	}
	if n.ReviewedBy != "" {
		page.ReviewedBy = &ldThing{Type: "Person", Name: n.ReviewedBy}
	}
	for _, a := range n.Audience {
		page.MedicalAudience = append(page.MedicalAudience, ldAudience{"MedicalAudience", audienceTypes[a]})
	}
	for _, t := range n.Topics {
		page.About = append(page.About, ldThing{Type: "Thing", Name: cfg.TopicTitle(t)})
	}
	if src := n.Source; src.URL != "" || src.DOI != "" || src.PMID != "" {
		c := &ldCitation{Type: "ScholarlyArticle", Name: src.Title, URL: src.URL}
		if src.Publisher != "" {
			c.Publisher = &ldThing{Type: "Organization", Name: src.Publisher}
		}
		if !src.Published.IsZero() {
			c.DatePublished = src.Published.In(cfg.Location()).Format("2006-01-02")
		}
		for _, id := range []struct{ kind, prop, v string }{{"doi", "DOI", src.DOI}, {"pmid", "PMID", src.PMID}, {"pmcid", "PMCID", src.PMCID}, {"nct", "NCT", src.NCT}} {
			if id.v != "" {
				c.Identifier = append(c.Identifier, ldID{"PropertyValue", id.prop, id.v})
				c.SameAs = append(c.SameAs, content.IDLink(id.kind, id.v))
			}
		}
		if n.Design != "" {
			c.Type, c.PublicationType = "MedicalScholarlyArticle", n.Design
			c.About = studyOf(n.Design)
			if strings.EqualFold(n.Design, "guideline") {
				c.EvidenceLevel = map[string]string{"strong": "https://schema.org/EvidenceLevelA", "moderate": "https://schema.org/EvidenceLevelB", "weak": "https://schema.org/EvidenceLevelC"}[n.Evidence.Strength()]
			}
		}
		page.Citation = c
	}
	data, err := json.Marshal(page) // escapes <, > and &, so it cannot end the script
	if err != nil {
		return ""
	}
	return template.JS(data)
}

// siteJSONLD describes the site, a WebSite, with its search page, when it
// has one, as a SearchAction, so that a search engine may offer to search
// it.
func (p *PageData) siteJSONLD() template.JS {
	cfg := p.Site.Config
	type entryPoint struct {
		Type        string `json:"@type"`
		URLTemplate string `json:"urlTemplate"`
	}
	type searchAction struct {
		Type       string     `json:"@type"`
		Target     entryPoint `json:"target"`
		QueryInput string     `json:"query-input"`
	}
	site := struct {
		Context         string        `json:"@context"`
		Type            string        `json:"@type"`
		Name            string        `json:"name"`
		URL             string        `json:"url"`
		InLanguage      string        `json:"inLanguage"`
		PotentialAction *searchAction `json:"potentialAction,omitempty"`
	}{"https://schema.org", "WebSite", cfg.Title, cfg.BaseURL, cfg.Language,
		nil}
	if cfg.Search.Enabled {
		site.PotentialAction = &searchAction{"SearchAction", entryPoint{"EntryPoint", cfg.AbsURL("search/") + "?q={search_term_string}"}, "required name=search_term_string"}
	}
	data, err := json.Marshal(site)
	if err != nil {
		return ""
	}
	return template.JS(data)
}
