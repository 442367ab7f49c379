package generator

import (
	"net"
	"regexp"
	"strings"
)

// A PHIHit is an identifier of a person that a line of text reveals: one
// of the HIPAA Safe Harbor identifiers text can carry.
type PHIHit struct {
	Kind   string // email, phone, fax, ssn, mrn, date, address, zip, ip, age
	Column int    // 1-based, in bytes
	Text   string
}

// AllowMarker on a line suppresses its findings: a curator's note that a
// flagged line was reviewed and is not about a person.
const AllowMarker = "rounds:allow"

// What is allowed before matching: research identifiers, numbers of
// publications and links are never a person's.
var phiAllow = regexp.MustCompile(`(?i)\b10\.\d{4,9}/[^\s)\]>"]+|\bPMID:?\s?\d+|\bPMC\d+|\bNCT\d{8}\b|\bISSN:?\s?\d{4}-\d{3}[\dX]\b|\bISBN(?:-1[03])?:?\s?[\d-]{10,17}[\dX]?|https?://\S+|www\.\S+|\bv\d+(?:\.\d+){2,}\b|\bversion\s+\d+(?:\.\d+)+`)

var (
	phiEmail = regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)
	phiPhone = regexp.MustCompile(`(?:\+1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]\d{2,4}){2,4}\b|\b0\d{2,4}\s\d{3,4}\s?\d{3,4}\b|\b07\d{3}\s?\d{6}\b`)
	phiSSN   = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b|(?i)\b(?:SSN|social security(?: number| no\.?)?)(?:\W{0,5}|\W+is\W+)\d{3}[ -]?\d{2}[ -]?\d{4}\b`)
	phiMRN   = regexp.MustCompile(`(?i)\b(?:MRN|medical record(?: number| no\.?)?|record (?:number|no\.?)|chart(?: number| no\.?)?|account(?: number| no\.?)?|acct\.?(?: no\.?)?|(?:insurance )?member(?: id| number| no\.?)?|policy(?: number| no\.?)?|health[- ]plan(?: id| number| no\.?)?|insurance(?: id| number| no\.?)?|patient id|beneficiary(?: id| identifier| number)?|hospital number|nhs number|medicaid(?: id| number)?|medicare(?: id| number)?)(?:\W{0,6}|\W+is\W+)(?:#\s?)?([A-Z]{0,3}-?\d{5,12}[A-Z]?(?:-\d{1,4})?|\d{2,4}[- ]\d{3,4}[- ]\d{3,4}|[A-Z0-9]{2,5}-[A-Z0-9]{2,5}-[A-Z0-9]{2,5})\b`)
	phiDate  = regexp.MustCompile(`(?i)\b(?:\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s\d{4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4})\b`)
	phiAddr  = regexp.MustCompile(`\b\d{1,5}[A-Za-z]?\s+(?:[NSEW]\.?\s)?(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\.?\s){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Parkway|Pkwy|Highway|Hwy|Square|Sq|Rise|Grove|Gardens|Mews|Row|Walk|Hill)\b|\b\d{1,4}\s+Kingsway\b(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?`)
	phiZip   = regexp.MustCompile(`\b\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b`)
	// A state and a ZIP code, or a whole UK postcode, is an address
	// wherever it is.
	phiZipSure = regexp.MustCompile(`\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\s(\d{5}(?:-\d{4})?)\b|\b([A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\b`)
	phiIPv4    = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	phiIPv6    = regexp.MustCompile(`(?i)[0-9a-f]*:[0-9a-f:]*:[0-9a-f]+`)
	phiAge     = regexp.MustCompile(`(?i)\b(9\d|1[01]\d)(?:[\s-]*(?:-?years?[\s-]old|-?year-old|yo\b|y/o|yrs?\b|-year)|\s?[MF]\b)|\b(?:aged?|age:?)\s+(9\d|1[01]\d)\b|\bninety-(?:one|two|three|four|five|six|seven|eight|nine)[\s-]years?[\s-]old\b`)

	// Words that tie a date, a ZIP code or an age to a person, and words
	// that tie a date to a publication instead.
	phiPerson    = regexp.MustCompile(`(?i)\b(?:admitted|discharged|dob|d\.o\.b|born|birth|seen|presented|visit(?:ed)?|died|deceased|death|patient|pt|she|he|her|his|him|mother|father|daughter|son|husband|wife|mr|mrs|ms|miss|lives?|living|resident|home|moved|zip|postcode|address|appointment|surgery on|operated|delivered|gave birth|year-old|woman|man|boy|girl|infant|baby)\b`)
	phiNotHer    = regexp.MustCompile(`(?i)\b(?:published|publication|approved|approval|issued|released|updated|accessed|posted|announced|guidance|guideline|trial|study|registered|registration|recall(?:ed)?|effective|from|until|between|through|season|enrol(?:l)?ment|database|cohort|epub|volume|vol|congress|conference|symposium|meeting|webinar)\b`)
	phiRole      = regexp.MustCompile(`(?i)^(?:press|info|editors?|media|contact|help|support|no-?reply|newsroom|enquiries|inquiries|webmaster|admin|office|communications|comms|feedback|hello|team|subscriptions?|unsubscribe|news)@`)
	phiZipCtx    = regexp.MustCompile(`(?i)\b(?:lives?|living|resident|residence|home|moved|zip(?: code)?|postcode|post code|address|located)\b`)
	phiPopBefore = regexp.MustCompile(`(?i)\b(?:people|adults|patients|participants|those|individuals|residents|population|women|men)\s+(?:\w+\s+){0,2}$`)
	phiPopAfter  = regexp.MustCompile(`(?i)^\W*(?:years?\W*)?(?:and (?:over|older|above)|or (?:older|over|more|above)|\+|to\s+\d|–\s*\d|-\s*\d)`)
)

// ScanPHI returns the identifiers of people that a line of text reveals.
// Research identifiers, links, sample sizes, publication dates and
// population ages are not flagged; a line with AllowMarker is not looked
// at.
func ScanPHI(line string) []PHIHit {
	if strings.Contains(line, AllowMarker) {
		return nil
	}
	// Blank out what is allowed, keeping columns.
	masked := []byte(line)
	for _, loc := range phiAllow.FindAllStringIndex(line, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			masked[i] = ' '
		}
	}
	text := string(masked)
	var hits []PHIHit
	taken := make([]bool, len(text)+1)
	add := func(kind string, loc []int) {
		for i := loc[0]; i < loc[1]; i++ {
			if taken[i] {
				return
			}
		}
		for i := loc[0]; i < loc[1]; i++ {
			taken[i] = true
		}
		hits = append(hits, PHIHit{Kind: kind, Column: loc[0] + 1, Text: line[loc[0]:loc[1]]})
	}
	before := func(loc []int, n int) string { return text[max(0, loc[0]-n):loc[0]] }
	for _, loc := range phiEmail.FindAllStringIndex(text, -1) {
		if !phiRole.MatchString(text[loc[0]:loc[1]]) {
			add("email", loc)
		}
	}
	for _, loc := range phiSSN.FindAllStringIndex(text, -1) {
		add("ssn", loc)
	}
	for _, m := range phiMRN.FindAllStringSubmatchIndex(text, -1) {
		add("mrn", m[2:4])
	}
	for _, loc := range phiIPv4.FindAllStringIndex(text, -1) {
		if net.ParseIP(text[loc[0]:loc[1]]) != nil {
			add("ip", loc)
		}
	}
	for _, loc := range phiIPv6.FindAllStringIndex(text, -1) {
		s := text[loc[0]:loc[1]]
		if (strings.Contains(s, "::") || strings.Count(s, ":") >= 5) && net.ParseIP(s) != nil {
			add("ip", loc)
		}
	}
	for _, loc := range phiPhone.FindAllStringIndex(text, -1) {
		kind := "phone"
		if strings.Contains(strings.ToLower(before(loc, 40)), "fax") {
			kind = "fax"
		}
		add(kind, loc)
	}
	for _, loc := range phiDate.FindAllStringIndex(text, -1) {
		near := before(loc, 60)
		if phiPerson.MatchString(near) && !phiNotHer.MatchString(before(loc, 30)) {
			add("date", loc)
		}
	}
	for _, loc := range phiAddr.FindAllStringIndex(text, -1) {
		if !strings.HasSuffix(strings.ToLower(before(loc, 4)), "the ") {
			add("address", loc)
		}
	}
	for _, m := range phiZipSure.FindAllStringSubmatchIndex(text, -1) {
		if m[2] >= 0 {
			add("zip", m[2:4])
		} else {
			add("zip", m[4:6])
		}
	}
	for _, loc := range phiZip.FindAllStringIndex(text, -1) {
		if phiZipCtx.MatchString(before(loc, 40)) {
			add("zip", loc)
		}
	}
	// Ages after the identifiers they may overlap (an MRN's digits).
	for _, m := range phiAge.FindAllStringSubmatchIndex(text, -1) {
		if phiPopAfter.MatchString(text[m[1]:]) || phiPopBefore.MatchString(before(m, 40)) {
			continue // a population's ages, not a person's
		}
		add("age", m[:2])
	}
	return hits
}
