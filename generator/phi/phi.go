// Package phi finds what may identify a patient in a curator's text: the
// HIPAA Safe Harbor identifiers that prose can carry (patients' and
// relatives' names in context, email addresses, phone and fax numbers,
// Social Security, record and health-plan numbers, certificate and
// licence numbers, device serial numbers, vehicle plates, dates, street addresses, ZIP codes and postcodes, IP
// addresses, ages over 89), told from an organisation's, a study's, a
// researcher's or a population's by the words around them.
//
// Every content file is scanned as it is read, by the build as by rounds
// check; a build records its verdict, and publishing refuses a build with
// findings or scanned by other Rules.
package phi

import (
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Rules is the version of the rules; a build records it with its verdict,
// and publishing refuses a build checked by other rules. Raise it when the
// rules change what they find.
const Rules = 2

// A Hit is an identifier of a person that a line of text reveals: one
// of the HIPAA Safe Harbor identifiers text can carry.
type Hit struct {
	Kind   string // name, email, phone, fax, ssn, mrn, licence, device, vehicle, date, address, zip, ip, age
	Line   int    // 1-based; set by ScanFile
	Column int    // 1-based, in bytes
	Text   string
}

// Name returns what a kind of hit is called in a finding: "a phone number".
func Name(kind string) string { return names[kind] }

var names = map[string]string{
	"email": "an email address", "phone": "a phone number", "fax": "a fax number", "ssn": "a Social Security number",
	"mrn": "a record, account or health-plan number", "date": "a date about a person", "address": "a street address",
	"zip": "a ZIP code or postcode", "ip": "an IP address", "age": "an age over 89",
	"name": "a patient's or relative's name", "device": "a device's serial number", "vehicle": "a vehicle's plate or registration",
	"licence": "a certificate or licence number",
}

// ScanFile looks for identifiers on every line of a content file, front
// matter and body, except in fenced code.
func ScanFile(text string) []Hit {
	var out []Hit
	sc := scanners.Get().(*scanner)
	defer scanners.Put(sc)
	inCode := false
	for n := 1; len(text) > 0; n++ {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		line = strings.TrimSuffix(line, "\r")
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		for _, h := range sc.scan(line, false) {
			h.Line = n
			out = append(out, h)
		}
	}
	return out
}

// scanners keeps scanners and their scratch space between files.
var scanners = sync.Pool{New: func() any { return new(scanner) }}

// Marker on a line suppresses its findings: a curator's note that a
// flagged line was reviewed and is not about a person.
const Marker = "rounds:allow"

// What is allowed before matching: research identifiers, numbers of
// publications and versions, and links are never a person's. The two
// are masked, wherever either matches.
var (
	phiAllowIDs  = newPattern(`(?i)\b10\.\d{4,9}/[^\s)\]>"]+|\bPMID:?\s?\d+|\bPMC\d+|\bNCT\d{8}\b|\bISSN:?\s?\d{4}-\d{3}[\dX]\b|\bISBN(?:-1[03])?:?\s?[\d-]{10,17}[\dX]?|\bv\d+(?:\.\d+){2,}\b|\bversion\s+\d+(?:\.\d+)+`)
	phiAllowLink = newPattern(`(?i)https?://\S+|www\.\S+`)
)

var (
	phiEmail = regexp.MustCompile(`\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b`)
	phiPhone = newPattern(`(?:\+1[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]\d{2,4}){2,4}\b|\b0\d{2,4}\s\d{3,4}\s?\d{3,4}\b|\b07\d{3}\s?\d{6}\b`)
	phiSSN   = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b|(?i)\b(?:SSN|social security(?: number| no\.?)?)(?:\W{0,5}|\W+is\W+)\d{3}[ -]?\d{2}[ -]?\d{4}\b`)
	phiMRN   = newPattern(`(?i)\b(?:MRN|medical record(?: number| no\.?)?|record (?:number|no\.?)|chart(?: number| no\.?)?|account(?: number| no\.?)?|acct\.?(?: no\.?)?|(?:insurance )?member(?: id| number| no\.?)?|policy(?: number| no\.?)?|health[- ]plan(?: id| number| no\.?)?|insurance(?: id| number| no\.?)?|patient id|beneficiary(?: id| identifier| number)?|hospital number|nhs number|medicaid(?: id| number)?|medicare(?: id| number)?|subscriber(?: id| number| no\.?)?)(?:\W{0,6}|\W+is\W+)(?:#\s?)?([A-Z]{0,3}-?\d{5,12}[A-Z]?(?:-\d{1,4})?|\d{2,4}[- ]\d{3,4}[- ]\d{3,4}|[A-Z0-9]{2,5}-[A-Z0-9]{2,5}-[A-Z0-9]{2,5}|(?-i:[A-Z0-9]{1,8}(?:-[A-Z0-9]{1,8}){1,4}|[A-Z]{1,4}\d[A-Z0-9]{4,14}))\b`)
	// A device's serial number, and a vehicle's plate or registration
	// (Safe Harbor's identifiers 12 and 13), after the words that name
	// them; the value holds a digit.
	phiDevice  = newPattern(`(?:(?i:\bserial\b(?: number| no\.?| #)?)|\b(?:S/N|SN)\b)(?:[:,]?\s?#?\s?|,?\s+(?:is|was)\s+)([A-Z0-9]{1,10}(?:-[A-Z0-9]{1,10}){0,4})\b`)
	phiVehicle = newPattern(`(?i)\b(?:licen[cs]e[- ]plate(?: number| no\.?)?|number plate\b|plate(?: number| no\.?)|registration\b(?: number| no\.?| plate| mark)?|reg\.? no\.?|VIN\b)(?:[:,]?\s?#?\s?|,?\s+(?:is|was|as)\s+)(?-i:([A-Z0-9]{2,4}(?:[ -]?[A-Z0-9]{1,4}){0,2}|[A-HJ-NPR-Z0-9]{17}))\b`)
	// A person's certificate or licence number (Safe Harbor's identifier
	// 11: a driving or pilot's licence, a passport, a birth or death
	// certificate, a permit), after the word that names it.
	phiLicence = newPattern(`(?i)\b(?:licen[cs]e|certificate|passport|permit)(?:\s(?:number|no\.?))?(?:\s?#\s?:?\s?|\s?[:,]\s?#?\s?|\s|,?\s+(?:is|was)\s+)(?-i:([A-Z0-9]{1,20}(?:[-/][A-Z0-9]{1,20}){0,3}))\b`)
	// The words that make a licence or certificate a product's, a
	// laboratory's or a programme's, as phiOrg makes one an
	// organisation's.
	phiLicenceOrg = regexp.MustCompile(`(?i)\b(?:product|vaccine|drug|medicine|device|laborator(?:y|ies)|lab|CLIA|CE|ISO|premises|wholesale|dealer|distributor|programme|program|prequalification|ethics|import|export|notified body|manufacturer|supplier)(?:'s)?\b`)
	// A patient's or relative's name: after a title (Mrs. Okafor), or
	// after "patient" or a relative (our patient Ana Ruiz, her
	// daughter, Priya), a capitalised word or two.
	phiName = newPattern(`(?:\b(?:Mrs|Mr|Ms|Miss|Mx)\.?\s+|(?i:\b(?:patient|daughter|son|wife|husband|mother|father|sister|brother|partner|granddaughter|grandson|grandmother|grandfather|niece|nephew|carer|caregiver|fianc[eé]e?)(?:,\s*|\s+)))((?:[A-Z][a-z]+|[A-Z]'[A-Z][a-z]+)(?:-[A-Z][a-z]+)?(?:\s(?:[A-Z][a-z]+|[A-Z]'[A-Z][a-z]+)(?:-[A-Z][a-z]+)?)?)`)
	phiDate = newPattern(`(?i)\b(?:\d{1,2}[/.]\d{1,2}[/.]\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}-(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)-\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s\d{4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s\d{1,2}(?:st|nd|rd|th)?,?\s\d{4})\b`)
	phiAddr = regexp.MustCompile(`\b\d{1,5}[A-Za-z]?\s+(?:[NSEW]\.?\s)?(?:(?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))\.?\s){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent|Parkway|Pkwy|Highway|Hwy|Square|Sq|Rise|Grove|Gardens|Mews|Row|Walk|Hill)\b|\b\d{1,4}\s+Kingsway\b(?:\s(?:NW|NE|SW|SE|N|S|E|W)\b)?`)
	phiZip  = regexp.MustCompile(`\b\d{5}(?:-\d{4})?\b|\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}\b`)
	// A state and a ZIP code, or a whole UK postcode, is an address
	// wherever it is.
	phiZipSure = regexp.MustCompile(`\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC)\s(\d{5}(?:-\d{4})?)\b|\b([A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})\b`)
	phiIPv4    = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	phiIPv6    = regexp.MustCompile(`(?i)[0-9a-f]*:[0-9a-f:]*:[0-9a-f]+`)
	phiAge     = newPattern(`(?i)\b(9\d|1[01]\d)(?:[\s-]*(?:-?years?[\s-]old|-?year-old|yo\b|y/o|yrs?\b|-year)|\s?[MF]\b)|\b(?:aged?|age:?)\s+(9\d|1[01]\d)\b|\bninety-(?:one|two|three|four|five|six|seven|eight|nine)[\s-]years?[\s-]old\b`)

	// Words that tie a date, a ZIP code or an age to a person, and words
	// that tie a date to a publication instead.
	phiOrg    = regexp.MustCompile(`(?i)\b(?:hospital|clinic|registry|office|helpline|hotline|help line|information line|quitline|switchboard|reception|department|dept|agency|centre|center|college|university|institute|foundation|society|association|charity|service|trust|council|ministry|poison|lifeline|samaritans|headquarters|manufacturer|company|coordinating|pharmacy|practice|ward|unit|board|authority|library|school)(?:'s)?\b`)
	phiPerson = regexp.MustCompile(`(?i)\b(?:admitted|discharged|dob|d\.o\.b|born|birth|seen|presented|visit(?:ed)?|died|deceased|death|patient|pt|she|he|her|his|him|mother|father|daughter|son|husband|wife|mr|mrs|ms|miss|lives?|living|resident|home|moved|zip|postcode|address|appointment|surgery on|operated|delivered|gave birth|year-old|woman|man|boy|girl|infant|baby)\b`)
	phiNotHer = regexp.MustCompile(`(?i)\b(?:published|publication|approved|approval|issued|released|updated|accessed|posted|announced|guidance|guideline|trial|study|registered|registration|recall(?:ed)?|effective|from|until|between|through|season|enrol(?:l)?ment|database|cohort|epub|volume|vol|congress|conference|symposium|meeting|webinar)\b`)
	phiRole   = regexp.MustCompile(`(?i)^(?:press|info|editors?|media|contact|help|support|no-?reply|newsroom|enquiries|inquiries|webmaster|admin|office|communications|comms|feedback|hello|team|subscriptions?|unsubscribe|news)@`)
	// The words that make a name's context a patient's or relative's
	// (before "patient" or a relative), and a researcher's or clinician's,
	// or a book's or a film's, instead (around the name).
	phiNameOwner = regexp.MustCompile(`(?i)\b(?:our|the|a|my|this|their|her|his|your)\s+$|'s\s+$`)
	phiNameRole  = regexp.MustCompile(`(?i)^(?:'s)?,?\s+(?:[\w'’-]+\s+){0,4}?(?:principal investigator|investigator|lead author|senior author|first author|co-?author|author|researcher|professor|spokes(?:wo)?man|spokesperson|director|chair(?:man|woman|person)?|cardiologist|oncologist|physician|nurse|doctor|surgeon|epidemiologist|scientist|consultant|pharmacist|dean|minister|secretary|commissioner|editor|president|head of|who (?:led|leads|directs|runs)|manager|coordinator|officer|practitioner|specialist|midwife|therapist|dietitian|GP|novel|film|book|cookbook|play|musical|series|character)\b`)
	phiNameSaid  = regexp.MustCompile(`(?i)\b(?:said|says|according to|told|wrote|by|thanks? to)\s+$`)
	// Capitalised words after a title or "patient" that are no one's
	// name.
	phiNotName = setOf("The", "This", "That", "These", "Those", "A", "An", "In", "On", "At", "It", "He", "She", "We", "They", "His", "Her",
		"Speaker", "President", "Chairman", "Chair", "Justice", "Secretary", "Deputy", "Chief", "Mayor", "Universe", "Right", "Big",
		"Men", "Safety", "Information", "Education", "Experience", "Advocate", "Advocacy", "Portal", "Voice", "Care", "Reported", "Outcome",
		"Outcomes", "Advisory", "Panel", "Council", "Forum", "Group", "Network", "Partners", "Services", "Access", "Record", "Records", "Charter", "Association", "Liaison", "Participation", "And", "Or", "But", "If", "When", "After", "Before", "For", "With", "Of", "To", "Was", "Is", "Has", "Had", "Who")
	// An organisation's words before a number or an address, and a
	// person's: phiPerson without the words of where (zip, home…), which
	// an organisation's address has too.
	phiWho       = regexp.MustCompile(`(?i)\b(?:admitted|discharged|dob|d\.o\.b|born|birth|seen|presented|visit(?:ed)?|died|deceased|death|patient|pt|she|he|her|his|him|mother|father|daughter|son|husband|wife|mr|mrs|ms|miss|lives?|living|appointment|surgery on|operated|delivered|gave birth|year-old|woman|man|boy|girl|infant|baby)\b`)
	phiZipCtx    = regexp.MustCompile(`(?i)\b(?:lives?|living|resident|residence|home|moved|zip(?: code)?|postcode|post code|address|located)\b`)
	phiPopBefore = regexp.MustCompile(`(?i)\b(?:people|adults|patients|participants|those|individuals|residents|population|women|men)\s+(?:\w+\s+){0,2}$`)
	phiPopAfter  = regexp.MustCompile(`(?i)^\W*(?:years?\W*)?(?:and (?:over|older|above)|or (?:older|over|more|above)|\+|to\s+\d|–\s*\d|-\s*\d)`)
)

// A phiPattern is a pattern that is tried only where a match can start:
// at each candidate start, anchored there. Its matches are those of
// FindAllStringSubmatchIndex over the whole line, as long as every match
// starts at a candidate, and a candidate is where the line's own context
// (a word boundary) is the same as a line that starts there: a word's
// start, or a character no pattern needs a boundary before.
type phiPattern struct {
	all, at *regexp.Regexp
}

func newPattern(expr string) *phiPattern {
	return &phiPattern{regexp.MustCompile(expr), regexp.MustCompile(`^(?:` + expr + `)`)}
}

// find returns the matches of p in text, trying it at the candidate starts
// (in order), or everywhere when exhaustive.
func (p *phiPattern) find(text string, starts []int, exhaustive bool) [][]int {
	if exhaustive {
		return p.all.FindAllStringSubmatchIndex(text, -1)
	}
	var out [][]int
	end := 0
	for _, at := range starts {
		if at < end {
			continue
		}
		m := p.at.FindStringSubmatchIndex(text[at:])
		if m == nil {
			continue
		}
		for i := range m {
			if m[i] >= 0 {
				m[i] += at
			}
		}
		out = append(out, m)
		end = max(m[1], m[0]+1)
	}
	return out
}

// Scan returns the identifiers of people that a line of text reveals.
// Research identifiers, links, sample sizes, publication dates and
// population ages are not flagged; a line with Marker is not looked
// at.
func Scan(line string) []Hit {
	var sc scanner
	return sc.scan(line, false)
}

// A scanner scans lines for identifiers, keeping its scratch space
// from one line to the next.
//
// Running every pattern over every line costs some 60 µs a line, most of
// it the regexp engine trying alternations at each position: 20 s for a
// newsletter of 10,000 notes. Here a pattern is tried only on a line that
// has its cue, a fact about the line that the pattern cannot match
// without (a digit, an "@", a street word, a keyword), and the patterns
// that common lines cue are tried only at the places a match can start.
// Both come from one pass over the line's bytes. The cues and starts only
// ever over-approximate: a test scans with and without them and compares
// the hits.
type scanner struct {
	masked []byte
	taken  []bool
	starts [nStarts][]int
}

// The patterns tried at candidate starts, as they index scanner.starts.
const (
	startLink    = iota // http…, www.
	startIDs            // the words of cueAllow
	startAge            // 90–119, age, aged, ninety
	startDate           // a word that starts with a digit or a month
	startPhone          // "+", "(" and a word that starts with a digit
	startMRN            // the MRN keywords, and "medical"
	startDevice         // serial, SN, S/N
	startVehicle        // plate, licence, registration, reg, VIN
	startName           // Mr, Mrs, Ms, Miss, Mx, patient and the relatives
	startLicence        // licence, license, certificate, passport, permit
	nStarts
	noStart = -1
)

// scan returns the identifiers in line; exhaustive tries every pattern
// everywhere, cue or not.
func (sc *scanner) scan(line string, exhaustive bool) []Hit {
	if strings.Contains(line, Marker) {
		return nil
	}
	// Case-insensitive patterns match two letters outside ASCII, the
	// Kelvin sign and the long s, which the cues (ASCII) would not see.
	exhaustive = exhaustive || strings.ContainsRune(line, '\u212a') || strings.ContainsRune(line, '\u017f')
	text := line
	c := sc.cues(line)
	// Blank out what is allowed, keeping columns.
	sc.masked = sc.masked[:0]
	for _, allow := range []struct {
		cue    bool
		p      *phiPattern
		starts []int
	}{{c.link, phiAllowLink, sc.starts[startLink]}, {c.is(cueAllow), phiAllowIDs, sc.starts[startIDs]}} {
		if !exhaustive && !allow.cue {
			continue
		}
		for _, loc := range allow.p.find(line, allow.starts, exhaustive) {
			if len(sc.masked) == 0 {
				sc.masked = append(sc.masked, line...)
			}
			for i := loc[0]; i < loc[1]; i++ {
				sc.masked[i] = ' '
			}
		}
	}
	if len(sc.masked) > 0 {
		text = string(sc.masked)
		c = sc.cues(text)
	}
	var hits []Hit
	ready := false // sc.taken is for this line
	add := func(kind string, loc []int) {
		if !ready {
			sc.taken = slices.Grow(sc.taken[:0], len(text)+1)[:len(text)+1]
			clear(sc.taken)
			ready = true
		}
		for i := loc[0]; i < loc[1]; i++ {
			if sc.taken[i] {
				return
			}
		}
		for i := loc[0]; i < loc[1]; i++ {
			sc.taken[i] = true
		}
		hits = append(hits, Hit{Kind: kind, Column: loc[0] + 1, Text: line[loc[0]:loc[1]]})
	}
	// before is the text of about n bytes before loc, from the start of a
	// word: a word cut in two is no word of its own.
	before := func(loc []int, n int) string {
		i := max(0, loc[0]-n)
		for i > 0 && i < loc[0] && isWordByte(text[i-1]) && isWordByte(text[i]) {
			i++
		}
		return text[i:loc[0]]
	}
	// organisation reports whether the words before loc name an
	// organisation and no person: the number or address is theirs, as a
	// hospital's switchboard or a college's street is.
	organisation := func(loc []int) bool {
		near := before(loc, 80)
		return phiOrg.MatchString(near) && !phiWho.MatchString(near)
	}
	if exhaustive || c.at {
		for _, loc := range phiEmail.FindAllStringIndex(text, -1) {
			if !phiRole.MatchString(text[loc[0]:loc[1]]) {
				add("email", loc)
			}
		}
	}
	if exhaustive || c.ssnShape || c.digits >= 9 && (c.is(cueSSN) || c.is(cueSocial|cueSecurity)) {
		for _, loc := range phiSSN.FindAllStringIndex(text, -1) {
			add("ssn", loc)
		}
	}
	if exhaustive || c.is(cueMRN) || c.is(cueHealth|cuePlan) || c.is(cuePatient|cueID) || c.is(cueHospital|cueNumber) || c.is(cueNHS|cueNumber) {
		for _, m := range phiMRN.find(text, sc.starts[startMRN], exhaustive) {
			add("mrn", m[2:4])
		}
	}
	if exhaustive || c.is(cueDevice) {
		for _, m := range phiDevice.find(text, sc.starts[startDevice], exhaustive) {
			if idLike(text[m[2]:m[3]], 3) {
				add("device", m[2:4])
			}
		}
	}
	if exhaustive || c.is(cueLicence) {
		for _, m := range phiLicence.find(text, sc.starts[startLicence], exhaustive) {
			// A product's, a laboratory's or an organisation's licence,
			// with no person named near it, is not an identifier.
			near := before(m, 60) + " " + text[m[1]:min(len(text), m[1]+50)]
			if idLike(text[m[2]:m[3]], 3) && !((phiOrg.MatchString(near) || phiLicenceOrg.MatchString(near)) && !phiWho.MatchString(near)) {
				add("licence", m[2:4])
			}
		}
	}
	if exhaustive || c.is(cueVehicle) {
		for _, m := range phiVehicle.find(text, sc.starts[startVehicle], exhaustive) {
			if v := text[m[2]:m[3]]; idLike(v, 1) && strings.IndexFunc(v, func(r rune) bool { return r >= 'A' && r <= 'Z' }) >= 0 {
				add("vehicle", m[2:4])
			}
		}
	}
	if exhaustive || c.is(cueName) {
		for _, m := range phiName.find(text, sc.starts[startName], exhaustive) {
			if sc.patientName(text, m) {
				add("name", m[2:4])
			}
		}
	}
	if exhaustive || c.dottedDigits >= 3 {
		for _, loc := range phiIPv4.FindAllStringIndex(text, -1) {
			if net.ParseIP(text[loc[0]:loc[1]]) != nil {
				add("ip", loc)
			}
		}
	}
	if exhaustive || c.doubleColon || c.colons >= 5 {
		for _, loc := range phiIPv6.FindAllStringIndex(text, -1) {
			s := text[loc[0]:loc[1]]
			if (strings.Contains(s, "::") || strings.Count(s, ":") >= 5) && net.ParseIP(s) != nil {
				add("ip", loc)
			}
		}
	}
	if exhaustive || c.phone {
		for _, loc := range phiPhone.find(text, sc.starts[startPhone], exhaustive) {
			if freephone(text[loc[0]:loc[1]]) || organisation(loc) {
				continue // a public helpline, or an organisation's number
			}
			kind := "phone"
			if strings.Contains(strings.ToLower(before(loc, 40)), "fax") {
				kind = "fax"
			}
			add(kind, loc[:2])
		}
	}
	if exhaustive || c.digits >= 3 && (c.dateSep || c.is(cueMonth) && c.digits >= 5) && c.is(cuePerson) {
		for _, loc := range phiDate.find(text, sc.starts[startDate], exhaustive) {
			near := before(loc, 60)
			if phiPerson.MatchString(near) && !phiNotHer.MatchString(before(loc, 30)) {
				add("date", loc[:2])
			}
		}
	}
	if exhaustive || c.digits >= 1 && c.is(cueStreet) {
		for _, loc := range phiAddr.FindAllStringIndex(text, -1) {
			if !strings.HasSuffix(strings.ToLower(before(loc, 4)), "the ") && !organisation(loc) {
				add("address", loc)
			}
		}
	}
	if exhaustive || c.is(cueState|cueFive) || c.is(cueInward) {
		for _, m := range phiZipSure.FindAllStringSubmatchIndex(text, -1) {
			if organisation(m) {
				continue
			}
			if m[2] >= 0 {
				add("zip", m[2:4])
			} else {
				add("zip", m[4:6])
			}
		}
	}
	if exhaustive || (c.is(cueFive) || c.is(cueInward)) && c.is(cueWhere) {
		for _, loc := range phiZip.FindAllStringIndex(text, -1) {
			if phiZipCtx.MatchString(before(loc, 40)) && !organisation(loc) {
				add("zip", loc)
			}
		}
	}
	// Ages after the identifiers they may overlap (an MRN's digits).
	if exhaustive || c.is(cueAge|cueAgeContext) || c.is(cueAgeSuffixed) || c.is(cueNinety) {
		for _, m := range phiAge.find(text, sc.starts[startAge], exhaustive) {
			if phiPopAfter.MatchString(text[m[1]:]) || phiPopBefore.MatchString(before(m, 40)) {
				continue // a population's ages, not a person's
			}
			add("age", m[:2])
		}
	}
	return hits
}

// phiCues are the facts about a line that the patterns need.
type phiCues struct {
	digits       int  // ASCII digits
	at           bool // an "@"
	colons       int
	doubleColon  bool
	dottedDigits int  // digit, dot, digit: three for an IPv4 address
	phone        bool // "+" and a digit; three digits, a space, dot or dash, and four; or 0 and two or more digits
	ssnShape     bool // three digits, a dash, two digits, a dash, four digits
	dateSep      bool // digit, then "/" or "." and a digit, or "-" and a letter or digit
	link         bool // "://" or "www.", which phiAllowLink takes wherever they are
	words        cue  // what the line's words (runs of ASCII letters, digits and "_") hold
}

// A cue is a set of facts about a line's words.
type cue uint32

// The facts about words. A keyword cue is set by a word that starts with
// the keyword (MRN12345678), or is it, when the pattern ends it with \b.
const (
	cueMonth       cue = 1 << iota // starts with a month's first three letters
	cueState                       // a US state's code
	cueStreet                      // Street, Ave, Road …
	cueFive                        // five digits
	cueInward                      // ends in a digit and two capitals: a UK postcode's end
	cueAge                         // 90–119
	cueAgeSuffixed                 // 90–119 and letters: 95yo, 92F
	cueAgeContext                  // year…, yr…, yo, y (y/o), m, f, age, aged: what makes a number an age
	cueNinety                      // "ninety" and a dash
	cueMRN                         // mrn, record, chart, account, policy …
	cueHealth                      // health (plan)
	cuePlan                        // (health) plan
	cuePatient                     // patient (id)
	cueID                          // (patient) id
	cueHospital                    // hospital (number)
	cueNHS                         // nhs (number)
	cueNumber                      // (hospital or nhs) number
	cueSSN                         // ssn
	cueSocial                      // social (security)
	cueSecurity                    // (social) security
	cueWhere                       // lives, home, zip, address …: where someone lives
	cueAllow                       // pmid, pmc, nct, issn, isbn, version, v1, 10.: what phiAllowIDs takes
	cuePerson                      // she, patient, born, admitted …: what ties a date to a person
	cueDevice                      // serial, SN, S/N
	cueVehicle                     // plate, licence, license, registration, reg, VIN
	cueName                        // a title (Mr, Mrs…), patient, a relative (daughter, wife…)
	cueLicence                     // licence, license, certificate, passport, permit
)

// is reports whether the line has every cue in want.
func (c *phiCues) is(want cue) bool { return c.words&want == want }

// A cueWord is a keyword whose words set a cue and, maybe, are where a
// pattern's match can start.
type cueWord struct {
	word   string // lower case
	prefix bool   // a word that starts with it counts; else only the word itself
	cue    cue
	start  int // the starts a word of it joins, or noStart
}

// cueWords are the keywords, by their first letter in lower case.
var cueWords = func() (t [26][]cueWord) {
	add := func(w cueWord) { t[w.word[0]-'a'] = append(t[w.word[0]-'a'], w) }
	for _, w := range []cueWord{
		{"mrn", true, cueMRN, startMRN}, {"record", true, cueMRN, startMRN}, {"chart", true, cueMRN, startMRN},
		{"account", true, cueMRN, startMRN}, {"acct", true, cueMRN, startMRN}, {"member", true, cueMRN, startMRN},
		{"policy", true, cueMRN, startMRN}, {"insurance", true, cueMRN, startMRN}, {"beneficiary", true, cueMRN, startMRN},
		{"medicaid", true, cueMRN, startMRN}, {"medicare", true, cueMRN, startMRN}, {"medical", true, 0, startMRN},
		{"health", true, cueHealth, startMRN}, {"plan", true, cuePlan, noStart}, {"patient", true, cuePatient, startMRN},
		{"id", true, cueID, noStart}, {"hospital", true, cueHospital, startMRN}, {"nhs", true, cueNHS, startMRN},
		{"number", true, cueNumber, noStart}, {"ssn", true, cueSSN, noStart}, {"social", true, cueSocial, noStart},
		{"security", true, cueSecurity, noStart}, {"subscriber", true, cueMRN, startMRN},
		{"pmid", true, cueAllow, startIDs}, {"pmc", true, cueAllow, startIDs}, {"nct", true, cueAllow, startIDs},
		{"issn", true, cueAllow, startIDs}, {"isbn", true, cueAllow, startIDs}, {"version", false, cueAllow, startIDs},
		{"year", true, cueAgeContext, noStart}, {"yr", true, cueAgeContext, noStart}, {"yo", false, cueAgeContext, noStart},
		{"y", false, cueAgeContext, noStart}, {"m", false, cueAgeContext, noStart}, {"f", false, cueAgeContext, noStart},
		{"age", false, cueAgeContext, startAge}, {"aged", false, cueAgeContext, startAge},
	} {
		add(w)
	}
	// The words of phiZipCtx, then of phiPerson ("d" for d.o.b, "year"
	// for year-old).
	for _, w := range strings.Fields("serial sn") {
		add(cueWord{w, false, cueDevice, startDevice})
	}
	for _, w := range strings.Fields("plate licence license number registration reg vin") {
		if w == "number" {
			add(cueWord{w, false, 0, startVehicle}) // number plate
			continue
		}
		add(cueWord{w, false, cueVehicle, startVehicle})
	}
	for _, w := range strings.Fields("licence license certificate passport permit") {
		add(cueWord{w, false, cueLicence, startLicence})
	}
	for _, w := range strings.Fields("mrs mr ms miss mx patient daughter son wife husband mother father sister brother partner " +
		"granddaughter grandson grandmother grandfather niece nephew carer caregiver fiance fiancee") {
		add(cueWord{w, false, cueName, startName})
	}
	for _, w := range strings.Fields("live lives living resident residence home moved zip postcode post address located") {
		add(cueWord{w, false, cueWhere, noStart})
	}
	for _, w := range strings.Fields("admitted discharged dob d born birth seen presented visit visited died deceased death patient pt " +
		"she he her his him mother father daughter son husband wife mr mrs ms miss live lives living resident home moved zip postcode " +
		"address appointment surgery operated delivered year woman man boy girl infant baby") {
		add(cueWord{w, false, cuePerson, noStart})
	}
	return t
}()

// cuePairs holds the keywords of cueWords by the first and second
// letters of a word (the second by its place in the alphabet, from 1;
// 0 for a keyword of one letter, which only a word of one letter is), so
// that a word is compared with the few keywords that may start it.
var cuePairs = func() (t [26][32][]cueWord) {
	for first, words := range cueWords {
		for _, w := range words {
			second := byte(0)
			if len(w.word) > 1 {
				second = w.word[1] & 31
			}
			t[first][second] = append(t[first][second], w)
		}
	}
	return t
}()

// The classes of bytes the cues look at.
const (
	classDigit = 1 << iota
	classLetter
	classWord // a letter, a digit or "_": regexp's \w
	classMark // @ : . / - + (, which some cue looks at
)

var byteClass = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b >= '0' && b <= '9':
			t[b] = classDigit | classWord
		case b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z':
			t[b] = classLetter | classWord
		case b == '_':
			t[b] = classWord
		case strings.IndexByte("@:./-+(", byte(b)) >= 0:
			t[b] = classMark
		}
	}
	return t
}()

// cues finds the cues of a line and the candidate starts of its patterns,
// in one pass over its bytes.
func (sc *scanner) cues(s string) phiCues {
	for i := range sc.starts {
		sc.starts[i] = sc.starts[i][:0]
	}
	var c phiCues
	three := -2 // where the last word of exactly three digits ended, if a space, dot or dash follows
	for i := 0; i < len(s); i++ {
		b := s[i]
		class := byteClass[b]
		if class == 0 {
			continue
		}
		if class&classWord != 0 {
			j, digits := i, 0
			for ; j < len(s) && byteClass[s[j]]&classWord != 0; j++ {
				if byteClass[s[j]]&classDigit != 0 {
					digits++
				}
			}
			next := byte(0)
			if j < len(s) {
				next = s[j]
			}
			c.digits += digits
			sc.word(&c, s, i, j, digits, next, &three)
			i = j - 1
			continue
		}
		prev := i > 0 && isDigit(s[i-1])
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch b {
		case '@':
			c.at = true
		case ':':
			c.colons++
			c.doubleColon = c.doubleColon || next == ':'
			if strings.HasPrefix(s[i:], "://") {
				c.link = true
				for _, back := range []int{5, 4} { // https, http
					if i >= back {
						sc.starts[startLink] = append(sc.starts[startLink], i-back)
					}
				}
			}
		case '.':
			if prev && isDigit(next) {
				c.dottedDigits++
				c.dateSep = true
			}
			if i >= 3 && s[i-3]|0x20 == 'w' && s[i-2]|0x20 == 'w' && s[i-1]|0x20 == 'w' {
				c.link = true
				sc.starts[startLink] = append(sc.starts[startLink], i-3)
			}
		case '/':
			c.dateSep = c.dateSep || prev && isDigit(next)
			if i > 0 && s[i-1]|0x20 == 's' && next|0x20 == 'n' {
				c.words |= cueDevice // S/N
				sc.starts[startDevice] = append(sc.starts[startDevice], i-1)
			}
		case '-':
			c.dateSep = c.dateSep || prev && (isDigit(next) || isLetter(next))
			c.ssnShape = c.ssnShape || prev && isSSN(s, i-3)
		case '+':
			c.phone = c.phone || isDigit(next)
			sc.starts[startPhone] = append(sc.starts[startPhone], i)
		case '(':
			sc.starts[startPhone] = append(sc.starts[startPhone], i)
		}
	}
	if len(sc.starts[startLink]) > 1 {
		slices.Sort(sc.starts[startLink])
		sc.starts[startLink] = slices.Compact(sc.starts[startLink])
	}
	return c
}

// word notes the cues of the word s[i:j], of which digits are digits,
// followed by the byte next (0 at the end of the line); three carries
// from word to word where a word of three digits ended, for the phone
// numbers of phiPhone, which hold three digits, one space, dot or dash,
// and four or more (555-0142), or start a word with 0 (020 7946 0958,
// 07700).
func (sc *scanner) word(c *phiCues, s string, i, j, digits int, next byte, three *int) {
	w := s[i:j]
	n := len(w)
	first := w[0]
	if isDigit(first) {
		sc.starts[startDate] = append(sc.starts[startDate], i)
		sc.starts[startPhone] = append(sc.starts[startPhone], i)
		if digits == n && n >= 4 && *three == i-1 || first == '0' && n >= 3 {
			c.phone = true
		}
		*three = -2
		if digits == n && n == 3 && strings.IndexByte(" \t\n\f\r.-", next) >= 0 {
			*three = j
		}
		if n == 5 && digits == 5 {
			c.words |= cueFive
		}
		// 90 to 99, or 100 to 119, alone or with letters after.
		if a := ageDigits(w); a > 0 {
			switch {
			case n == a:
				c.words |= cueAge
				sc.starts[startAge] = append(sc.starts[startAge], i)
			case isLetter(w[a]):
				c.words |= cueAgeSuffixed
				sc.starts[startAge] = append(sc.starts[startAge], i)
			}
		}
		if w == "10" && next == '.' {
			c.words |= cueAllow // a DOI
			sc.starts[startIDs] = append(sc.starts[startIDs], i)
		}
	} else if l := first | 0x20; l >= 'a' && l <= 'z' {
		if n >= 3 && isLetter(w[1]) && isLetter(w[2]) && isMonth(l, w[1]|0x20, w[2]|0x20) {
			c.words |= cueMonth
			sc.starts[startDate] = append(sc.starts[startDate], i)
		}
		var second byte // a word of one letter is looked up by the letter alone
		if n > 1 {
			second = w[1] | 0x20
		}
		for _, k := range cuePairs[l-'a'][second&31] {
			if (k.prefix || n == len(k.word)) && hasPrefixFold(w, k.word) {
				c.words |= k.cue
				if k.start != noStart && (len(sc.starts[k.start]) == 0 || sc.starts[k.start][len(sc.starts[k.start])-1] != i) {
					sc.starts[k.start] = append(sc.starts[k.start], i)
				}
			}
		}
		switch {
		case l == 'v' && n > 1 && isDigit(w[1]):
			c.words |= cueAllow // v1.2.3
			sc.starts[startIDs] = append(sc.starts[startIDs], i)
		case next == '-' && n == 6 && hasPrefixFold(w, "ninety"):
			c.words |= cueNinety
			sc.starts[startAge] = append(sc.starts[startAge], i)
		}
		if isUpper(first) {
			if n == 2 && isUpper(w[1]) && usStates[w] {
				c.words |= cueState
			}
			if streetWords[w] {
				c.words |= cueStreet
			}
		}
	}
	if n >= 3 && isDigit(w[n-3]) && isUpper(w[n-2]) && isUpper(w[n-1]) {
		c.words |= cueInward
	}
	if !isDigit(first) {
		*three = -2
	}
}

// isMonth reports whether a, b, c (lower-case letters) start a month's
// name.
func isMonth(a, b, c byte) bool { return monthStarts[(int(a-'a')*26+int(b-'a'))*26+int(c-'a')] }

// monthStarts holds the first three letters of each month, by their
// letters' places in the alphabet.
var monthStarts = func() (t [26 * 26 * 26]bool) {
	for _, m := range strings.Fields("jan feb mar apr may jun jul aug sep oct nov dec") {
		t[(int(m[0]-'a')*26+int(m[1]-'a'))*26+int(m[2]-'a')] = true
	}
	return t
}()

// hasPrefixFold reports whether the word w starts with k, a keyword in
// lower case, in any case of ASCII letters.
func hasPrefixFold(w, k string) bool {
	if len(w) < len(k) {
		return false
	}
	for i := range len(k) {
		if w[i]|0x20 != k[i] {
			return false
		}
	}
	return true
}

// ageDigits returns how many digits of w, 2 or 3, make an age phiAge
// looks for (90–99, 100–119), or 0.
func ageDigits(w string) int {
	switch {
	case len(w) >= 2 && w[0] == '9' && isDigit(w[1]):
		return 2
	case len(w) >= 3 && w[0] == '1' && (w[1] == '0' || w[1] == '1') && isDigit(w[2]):
		return 3
	}
	return 0
}

// isSSN reports whether s holds a Social Security number's shape at i:
// three digits, a dash, two digits, a dash and four, a word of their own.
func isSSN(s string, i int) bool {
	if i < 0 || i+11 > len(s) || i > 0 && isWordByte(s[i-1]) || i+11 < len(s) && isWordByte(s[i+11]) {
		return false
	}
	return allDigits(s[i:i+3]) && s[i+3] == '-' && allDigits(s[i+4:i+6]) && s[i+6] == '-' && allDigits(s[i+7:i+11])
}

var (
	usStates = setOf("AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC")
	// The words phiAddr ends an address with.
	streetWords = setOf("Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Ln", "Drive", "Dr", "Boulevard", "Blvd", "Court", "Ct", "Way",
		"Place", "Pl", "Terrace", "Close", "Crescent", "Parkway", "Pkwy", "Highway", "Hwy", "Square", "Sq", "Rise", "Grove", "Gardens",
		"Mews", "Row", "Walk", "Hill", "Kingsway")
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func isDigit(b byte) bool  { return b >= '0' && b <= '9' }
func isUpper(b byte) bool  { return b >= 'A' && b <= 'Z' }
func isLetter(b byte) bool { return isUpper(b) || b >= 'a' && b <= 'z' }

// isWordByte is regexp's \w: an ASCII letter, digit or "_".
func isWordByte(b byte) bool { return byteClass[b]&classWord != 0 }

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

// freephone reports whether a phone number is a toll-free line, which
// public helplines use and people do not: North American 800, 888, 877,
// 866, 855, 844 and 833, and the UK's 0800 and 0808.
func freephone(number string) bool {
	var d []byte
	for i := 0; i < len(number); i++ {
		if isDigit(number[i]) {
			d = append(d, number[i])
		}
	}
	s := string(d)
	if len(s) == 11 && s[0] == '1' {
		s = s[1:]
	}
	if len(s) == 10 {
		switch s[:3] {
		case "800", "888", "877", "866", "855", "844", "833":
			return true
		}
	}
	return strings.HasPrefix(s, "0800") || strings.HasPrefix(s, "0808")
}

// idLike reports whether s, a serial number or a plate, holds at least
// digits digits and five letters or digits: an identifier, not a word.
func idLike(s string, digits int) bool {
	d, n := 0, 0
	for i := range len(s) {
		if isDigit(s[i]) {
			d++
		}
		if isWordByte(s[i]) {
			n++
		}
	}
	return d >= digits && n >= 5
}

// patientName reports whether the name that phiName matched at m is a
// patient's or a relative's: after "patient" or a relative, only with an
// owner before it (our patient, her daughter); never a word that is no
// name, nor a researcher's or a clinician's, said or named by their role.
func (sc *scanner) patientName(text string, m []int) bool {
	name := text[m[2]:m[3]]
	first, _, _ := strings.Cut(name, " ")
	if phiNotName[first] {
		return false
	}
	lead := strings.TrimRight(text[m[0]:m[2]], " \t.,")
	near := text[max(0, m[0]-24):m[0]]
	switch lead {
	case "Mr", "Mrs", "Ms", "Miss", "Mx":
	default: // "patient" or a relative, which an owner comes before
		if !phiNameOwner.MatchString(near) {
			return false
		}
	}
	if phiNameSaid.MatchString(near) {
		return false
	}
	after := text[m[3]:min(len(text), m[3]+80)]
	return !phiNameRole.MatchString(after)
}
