package feeds

import (
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Identifiers are the research identifiers an item carries, found in its
// link, its GUID, its Dublin Core metadata or its text.
type Identifiers struct {
	DOI  string   `json:"doi,omitempty"`  // lower case, without "doi:" or a resolver
	PMID string   `json:"pmid,omitempty"` // digits
	NCT  []string `json:"nct,omitempty"`  // "NCT" and 8 digits
}

var (
	doiPattern  = regexp.MustCompile(`(?i)\b10\.\d{4,9}/[-._;()/:a-z0-9\[\]]+`)
	pmidPattern = regexp.MustCompile(`(?i)\b(?:pmid:?\s*|pubmed\.ncbi\.nlm\.nih\.gov/|ncbi\.nlm\.nih\.gov/pubmed/)(\d{1,9})\b`)
	nctPattern  = regexp.MustCompile(`\bNCT\d{8}\b`)
	rxivVersion = regexp.MustCompile(`v\d+$`)
)

// findDOI returns the first DOI in s, without the punctuation that ends
// a sentence or closes a bracket around it, or "".
func findDOI(s string) string {
	if !strings.Contains(s, "10.") {
		return "" // most strings: no need to try the pattern
	}
	m := doiPattern.FindString(s)
	if m == "" {
		return ""
	}
	m = strings.TrimRight(m, ".,;:/")
	// A DOI may contain brackets, but a closing one without its opening
	// one belongs to the text around it.
	for _, p := range [][2]string{{"(", ")"}, {"[", "]"}} {
		for strings.HasSuffix(m, p[1]) && strings.Count(m, p[0]) < strings.Count(m, p[1]) {
			m = strings.TrimSuffix(m, p[1])
		}
	}
	// A DOI in a publisher's URL is followed by the page's own suffixes.
	for trimmed := true; trimmed; {
		trimmed = false
		for _, suffix := range []string{"/abstract", "/full", "/pdf", "/fulltext", ".full", ".abstract", ".pdf"} {
			if strings.HasSuffix(m, suffix) {
				m, trimmed = strings.TrimSuffix(m, suffix), true
			}
		}
	}
	m = strings.ToLower(m)
	// bioRxiv and medRxiv put the version after the DOI: 10.1101/….12345v2.
	if strings.HasPrefix(m, "10.1101/") {
		m = rxivVersion.ReplaceAllString(m, "")
	}
	return m
}

// containsFold reports whether s holds sub (lower-case ASCII letters)
// in any case, as a (?i) pattern matches it.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

// findPMID returns the first PubMed ID in s, or "".
func findPMID(s string) string {
	if !containsFold(s, "pmid") && !containsFold(s, "pubmed") {
		return "" // every form of pmidPattern holds one of them
	}
	if m := pmidPattern.FindStringSubmatch(s); m != nil {
		return strings.TrimLeft(m[1], "0")
	}
	return ""
}

// findNCT adds the ClinicalTrials.gov numbers in s to ids, once each.
func findNCT(ids []string, s string) []string {
	if !strings.Contains(s, "NCT") {
		return ids
	}
	for _, m := range nctPattern.FindAllString(s, -1) {
		if !slices.Contains(ids, m) {
			ids = append(ids, m)
		}
	}
	return ids
}

// Identify returns the identifiers the given strings (addresses, titles,
// text) name, the first string's first.
func Identify(texts ...string) Identifiers {
	var ids Identifiers
	ids.identify(texts...)
	return ids
}

// identify fills in the identifiers found in the given strings, the most
// trustworthy first: a DOI in metadata beats one mentioned in the text.
func (ids *Identifiers) identify(texts ...string) {
	for _, s := range texts {
		if ids.DOI == "" {
			ids.DOI = findDOI(s)
		}
		if ids.PMID == "" {
			ids.PMID = findPMID(s)
		}
		ids.NCT = findNCT(ids.NCT, s)
	}
	sort.Strings(ids.NCT)
}

// trackingParams are query parameters that only tell the publisher where
// a click came from. Each entry is an exact name or, ending in "*", a
// prefix.
var trackingParams = []string{
	"utm_*", "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid",
	"mc_cid", "mc_eid", "_hsenc", "_hsmi", "__hssc", "__hstc", "__hsfp", "hsctatracking",
	"mkt_tok", "igshid", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid",
	"_ga", "_gl", "ncid", "cmpid", "sc_cid", "s_cid", "trk", "trkcampaign",
	"rss", "ref_src", "ref_url", "spmailingid", "spuserid", "spjobid", "spreportid",
}

// hostTrackingParams are tracking parameters particular to one host:
// PubMed's feeds add fc and ff (the feed's creation and fetch dates).
var hostTrackingParams = map[string][]string{
	"pubmed.ncbi.nlm.nih.gov": {"fc", "ff", "v"},
}

func isTracking(host, name string) bool {
	name = strings.ToLower(name)
	for _, p := range trackingParams {
		if p == name || strings.HasSuffix(p, "*") && strings.HasPrefix(name, strings.TrimSuffix(p, "*")) {
			return true
		}
	}
	return slices.Contains(hostTrackingParams[strings.TrimPrefix(host, "www.")], name)
}

// CleanURL resolves ref against base and removes tracking parameters and
// control characters. It returns "" for anything that is not an absolute
// http or https URL, so a javascript: or data: link never becomes an
// item's link.
func CleanURL(base *url.URL, ref string) string {
	u := resolve(base, ref)
	if u == nil {
		return ""
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for name := range q {
			if isTracking(u.Hostname(), name) {
				q.Del(name)
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// resolve parses ref, made printable (see Printable), resolves it against
// base and returns it if it is an absolute http or https URL with a host.
func resolve(base *url.URL, ref string) *url.URL {
	ref = Printable(ref)
	if ref == "" {
		return nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.User != nil {
		return nil
	}
	u.Host = strings.ToLower(u.Host)
	return u
}

// URLKey is the form of a URL that two copies of one link share: https,
// no "www.", no tracking parameters, no fragment, sorted query, no
// trailing slash. It is for comparing links, not for following them.
func URLKey(raw string) string {
	u := resolve(nil, CleanURL(nil, raw))
	if u == nil {
		return ""
	}
	host := strings.TrimPrefix(u.Hostname(), "www.")
	if p := u.Port(); p != "" && p != "80" && p != "443" {
		host += ":" + p
	}
	p := path.Clean("/" + u.EscapedPath())
	if p == "/" {
		p = ""
	}
	key := "https://" + host + strings.TrimSuffix(p, "/")
	if u.RawQuery != "" {
		key += "?" + u.Query().Encode()
	}
	return key
}
