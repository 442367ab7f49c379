package subscribers

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/leak"
)

// A Format is a kind of subscribers CSV file that Import reads.
type Format string

// The formats ReadCSV reads.
const (
	// FormatRounds is the subscribers.csv of Rounds: email, name, lists
	// (separated by spaces, commas or semicolons) and status
	// (subscribed, unsubscribed, bounced, complained). Export writes it.
	FormatRounds Format = "rounds"
	// FormatMailchimp is an audience export of Mailchimp: "Email
	// Address", "First Name", "Last Name", OPTIN_TIME, CONFIRM_TIME, …
	// Its unsubscribed file (with UNSUB_TIME) and cleaned file (with
	// CLEAN_TIME, addresses that bounced) are read as such.
	FormatMailchimp Format = "mailchimp"
	// FormatButtondown is a subscriber export of Buttondown: email (or
	// email_address), subscriber_type (or type), creation_date, …
	FormatButtondown Format = "buttondown"
	// FormatListmonk is a subscriber export of listmonk: uuid, email,
	// name, attributes, status (enabled, disabled, blocklisted),
	// created_at, updated_at.
	FormatListmonk Format = "listmonk"
)

// MaxImport is the largest CSV file ReadCSV reads.
const MaxImport = 256 << 20

// A Row is a subscriber read from a CSV file.
type Row struct {
	Line  int
	Email string // normalised
	Name  string
	Lists []string
	// Status is "subscribed", "unsubscribed", "bounced" or "complained".
	Status string
	// OptIn is when they opted in, if the file says.
	OptIn time.Time
}

// rowStatuses are the statuses a Row may have.
var rowStatuses = []string{"subscribed", "unsubscribed", "bounced", "complained"}

// header maps a file's column names, folded to lower case, to their index.
type header map[string]int

// get returns the first of the named columns the record has.
func (h header) get(rec []string, names ...string) string {
	for _, n := range names {
		if i, ok := h[n]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
	}
	return ""
}

func (h header) has(names ...string) bool {
	for _, n := range names {
		if _, ok := h[n]; ok {
			return true
		}
	}
	return false
}

// Detect names the format of a file with the header: "" if it is none of
// them.
func (h header) detect() Format {
	switch {
	case h.has("email address"):
		return FormatMailchimp
	case h.has("uuid") && h.has("attributes"):
		return FormatListmonk
	case h.has("email", "email_address") && h.has("subscriber_type", "type", "creation_date"):
		return FormatButtondown
	case h.has("email") && h.has("lists"):
		return FormatRounds
	}
	return ""
}

// ReadCSV reads a subscribers CSV file named name, in format f, or in the
// format its header shows when f is "". Exports of other services name no
// lists: their rows go on lists. It returns the rows it could read and the
// format, and an error naming the file and line of each row it could not.
// Addresses in errors are masked.
func ReadCSV(name string, r io.Reader, f Format, lists []string) ([]Row, Format, error) {
	for _, l := range lists {
		if err := CheckList(l); err != nil {
			return nil, f, err
		}
	}
	lr := &io.LimitedReader{R: r, N: MaxImport + 1}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	first, err := cr.Read()
	if err != nil {
		return nil, f, fmt.Errorf("%s:1: %w; the first row names the columns", name, err)
	}
	h := header{}
	for i, c := range first {
		c = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(c, "\ufeff")))
		if _, dup := h[c]; !dup {
			h[c] = i
		}
	}
	if f == "" {
		if f = h.detect(); f == "" {
			return nil, f, fmt.Errorf("%s:1: the columns are not those of a subscribers.csv (email,name,lists,status) nor of a Mailchimp, Buttondown or listmonk export", name)
		}
	}
	if f != FormatRounds && len(lists) == 0 {
		return nil, f, fmt.Errorf("%s: a %s export names no lists: say which lists its subscribers go on", name, f)
	}
	var rows []Row
	var errs []error
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if lr.N <= 0 {
			return rows, f, fmt.Errorf("%s: larger than %d MiB; split it", name, MaxImport>>20)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			if len(errs) > 100 {
				break
			}
			continue
		}
		row, err := readRow(f, h, rec, lists)
		if err == nil {
			row.Email, err = CheckAddress(row.Email)
			if err != nil {
				err = fmt.Errorf("email: %w", err)
			}
		}
		if err == nil && !printable(row.Name, MaxName) {
			err = fmt.Errorf("name: longer than %d bytes or has control characters", MaxName)
		}
		if err == nil {
			if prev, dup := seen[row.Email]; dup {
				err = fmt.Errorf("email: %s is also on line %d; keep one row per subscriber", leak.Mask(row.Email), prev)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			if len(errs) > 100 {
				errs = append(errs, fmt.Errorf("%s: too many errors; is it a subscribers file?", name))
				break
			}
			continue
		}
		row.Line = line
		seen[row.Email] = line
		rows = append(rows, row)
	}
	return rows, f, errors.Join(errs...)
}

// readRow reads a record of a file in format f.
func readRow(f Format, h header, rec []string, lists []string) (Row, error) {
	switch f {
	case FormatRounds:
		r := Row{Email: h.get(rec, "email"), Name: h.get(rec, "name"), Status: strings.ToLower(h.get(rec, "status"))}
		r.Name = strings.TrimPrefix(r.Name, "'") // Export's guard against spreadsheet formulas
		if r.Status == "" {
			r.Status = "subscribed"
		}
		if !slices.Contains(rowStatuses, r.Status) {
			return r, fmt.Errorf("status: %q; use %s", r.Status, strings.Join(rowStatuses, ", "))
		}
		r.Lists = strings.FieldsFunc(h.get(rec, "lists"), func(r rune) bool { return r == ';' || r == ' ' || r == ',' })
		for _, l := range r.Lists {
			if err := CheckList(l); err != nil {
				return r, fmt.Errorf("lists: %w", err)
			}
		}
		if len(r.Lists) == 0 {
			r.Lists = lists
		}
		if len(r.Lists) == 0 && r.Status == "subscribed" {
			return r, errors.New("lists: empty; name the lists the subscriber receives")
		}
		return r, nil
	case FormatMailchimp:
		r := Row{Email: h.get(rec, "email address"), Lists: lists, Status: "subscribed"}
		r.Name = strings.TrimSpace(h.get(rec, "first name") + " " + h.get(rec, "last name"))
		switch {
		case h.has("clean_time"):
			r.Status = "bounced"
		case h.has("unsub_time"):
			r.Status = "unsubscribed"
		}
		r.OptIn = parseTime(cmp.Or(h.get(rec, "confirm_time"), h.get(rec, "optin_time")))
		return r, nil
	case FormatButtondown:
		r := Row{Email: h.get(rec, "email", "email_address"), Lists: lists}
		typ := strings.ToLower(h.get(rec, "subscriber_type", "type"))
		switch {
		case typ == "undeliverable" || h.get(rec, "undeliverability_date") != "":
			r.Status = "bounced"
		case typ == "complained":
			r.Status = "complained"
		case typ == "unsubscribed" || typ == "removed" || h.get(rec, "unsubscription_date") != "":
			r.Status = "unsubscribed"
		case typ == "" || slices.Contains([]string{"regular", "premium", "gifted", "trialed", "churned", "past_due", "paused"}, typ):
			r.Status = "subscribed"
		default: // unactivated (never confirmed), spammy, blocked
			return r, fmt.Errorf("subscriber_type: %q is not a confirmed subscriber; it is not imported", typ)
		}
		r.OptIn = parseTime(h.get(rec, "creation_date", "subscription_date", "created_date"))
		return r, nil
	case FormatListmonk:
		r := Row{Email: h.get(rec, "email"), Name: h.get(rec, "name"), Lists: lists}
		switch st := strings.ToLower(h.get(rec, "status")); st {
		case "enabled", "":
			r.Status = "subscribed"
		case "disabled", "blocklisted":
			// listmonk blocklists on an unsubscribe from every list, and
			// sends nothing to either: nothing is sent here either.
			r.Status = "unsubscribed"
		default:
			return r, fmt.Errorf("status: %q; listmonk's are enabled, disabled and blocklisted", st)
		}
		r.OptIn = parseTime(h.get(rec, "created_at"))
		return r, nil
	}
	return Row{}, fmt.Errorf("format %q: use rounds, mailchimp, buttondown or listmonk", f)
}

// parseTime reads the times of the exports; the zero time if it cannot.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// ImportReport says what an import does.
type ImportReport struct {
	Added        int // subscribers added to lists
	Unsubscribed int // unsubscribes recorded
	Suppressed   int // bounces and complaints recorded
	// Skipped are the rows the import leaves out, with why.
	Skipped []Skipped
}

// Skipped is a row an import leaves out.
type Skipped struct {
	Line  int
	Email string // masked
	Why   string
}

// Import returns the events that bring the rows into the log, to append,
// read with source (such as "import:mailchimp") at now. An import adds a
// subscriber only to the lists the log knows nothing of them on: it never
// brings back an address that is suppressed, erased, or that unsubscribed
// from the list, and never changes a pending subscription. Unsubscribes,
// bounces and complaints it records whatever the log says, except for
// erased addresses, of which it records nothing.
func (st *State) Import(secret []byte, rows []Row, source string, now time.Time) ([]Event, ImportReport) {
	var events []Event
	var rep ImportReport
	skip := func(r Row, why string) { rep.Skipped = append(rep.Skipped, Skipped{r.Line, leak.Mask(r.Email), why}) }
	for _, r := range rows {
		key := Key(secret, r.Email)
		s := st.subs[key]
		if s == nil {
			s = &Subscriber{}
		}
		e := Event{ID: NewID(), Time: now, Key: key, Source: source}
		switch {
		case s.Erased:
			skip(r, "erased at their request: never imported again")
			continue
		case r.Status == "subscribed" && s.Suppressed != "":
			skip(r, fmt.Sprintf("suppressed (%s): never imported again", s.Suppressed))
			continue
		case r.Status == "subscribed":
			var lists []string
			for _, l := range r.Lists {
				if _, ok := s.On(l); !ok {
					lists = append(lists, l)
				}
			}
			if len(lists) == 0 {
				skip(r, "on its lists already, or unsubscribed from them")
				continue
			}
			e.Kind, e.Email, e.Name, e.Lists = Imported, r.Email, r.Name, lists
			if !r.OptIn.IsZero() {
				e.Consent = &Consent{At: r.OptIn}
			}
			rep.Added++
		case r.Status == "unsubscribed":
			e.Kind, e.Lists = Unsubscribed, r.Lists
			rep.Unsubscribed++
		case r.Status == "bounced":
			e.Kind, e.Bounce = Bounced, &Bounce{Hard: true, Diagnostic: "imported as bounced"}
			rep.Suppressed++
		case r.Status == "complained":
			e.Kind = Complained
			rep.Suppressed++
		default:
			skip(r, fmt.Sprintf("status %q", r.Status))
			continue
		}
		events = append(events, e)
	}
	return events, rep
}

// Export writes the subscribers the log has addresses of as a
// subscribers.csv (FormatRounds), sorted by address: the lists each
// receives as "subscribed"; else, if suppressed, their lists as "bounced"
// or "complained"; else the lists they left as "unsubscribed". Pending
// subscriptions, never confirmed, are left out.
func (st *State) Export(w io.Writer) error {
	subs := make([]*Subscriber, 0, len(st.subs))
	for _, s := range st.subs {
		if s.Email != "" && !s.Erased {
			subs = append(subs, s)
		}
	}
	slices.SortFunc(subs, func(a, b *Subscriber) int { return cmp.Compare(a.Email, b.Email) })
	cw := csv.NewWriter(w)
	cw.Write([]string{"email", "name", "lists", "status"})
	for _, s := range subs {
		var active, left, all []string
		for _, x := range s.Lists {
			switch x.Status {
			case Active:
				active = append(active, x.List)
			case Left:
				left = append(left, x.List)
			}
			if x.Status != Left {
				all = append(all, x.List)
			}
		}
		lists, status := active, "subscribed"
		switch {
		case s.Suppressed == Complaint:
			lists, status = all, "complained"
		case s.Suppressed != "":
			lists, status = all, "bounced"
		case len(active) == 0 && len(left) > 0:
			lists, status = left, "unsubscribed"
		case len(active) == 0:
			continue
		}
		name := s.Name
		if name != "" && strings.ContainsRune("=+-@", rune(name[0])) {
			name = "'" + name // not a formula when a spreadsheet opens the file
		}
		cw.Write([]string{s.Email, name, strings.Join(lists, " "), status})
	}
	cw.Flush()
	return cw.Error()
}
