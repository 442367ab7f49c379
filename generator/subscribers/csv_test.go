package subscribers

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// readFile reads a CSV file of testdata, detecting its format.
func readFile(t *testing.T, name string, lists ...string) ([]Row, Format) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, format, err := ReadCSV(name, f, "", lists)
	if err != nil && !strings.HasPrefix(name, "buttondown") {
		t.Fatal(err)
	}
	return rows, format
}

// summary is "email status lists" a row.
func summary(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s %q", r.Email, r.Status, strings.Join(r.Lists, ","), r.Name))
	}
	return out
}

func TestReadCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		format Format
		want   []string
	}{
		{"subscribers.csv", FormatRounds, []string{
			`ana.okafor@clinic.example subscribed clinicians,patients "Ana Okafor"`,
			`ben.hale@hospital.example subscribed clinicians "Ben Hale"`,
			`chidi@mail.example unsubscribed patients ""`,
			`dora.v@nurses.example bounced clinicians,patients "Vargas, Dora"`,
			`eli@spam.example complained patients "Eli"`,
		}},
		{"mailchimp_subscribed.csv", FormatMailchimp, []string{
			`fatima.r@gp.example subscribed clinicians "Fatima Rahman"`,
			`george.k@pharm.example subscribed clinicians "George Kim"`,
		}},
		{"mailchimp_unsubscribed.csv", FormatMailchimp, []string{`hana@uni.example unsubscribed clinicians "Hana Sato"`}},
		{"mailchimp_cleaned.csv", FormatMailchimp, []string{`ivan@gone.example bounced clinicians "Ivan Petrov"`}},
		{"buttondown.csv", FormatButtondown, []string{
			`jade@clinic.example subscribed clinicians ""`,
			`kofi@mail.example subscribed clinicians ""`,
			`lena@mail.example unsubscribed clinicians ""`,
			`marco@bounce.example bounced clinicians ""`,
		}},
		{"listmonk.csv", FormatListmonk, []string{
			`omar@clinic.example subscribed clinicians "Omar Haddad"`,
			`priya@mail.example unsubscribed clinicians "Priya N"`,
			`quinn@mail.example subscribed clinicians "Quinn"`,
		}},
	}
	for _, tt := range tests {
		rows, format := readFile(t, tt.file, "clinicians")
		if format != tt.format || !slices.Equal(summary(rows), tt.want) {
			t.Errorf("%s: %s\n%s\nwant %s\n%s", tt.file, format, strings.Join(summary(rows), "\n"), tt.format, strings.Join(tt.want, "\n"))
		}
	}
	rows, _ := readFile(t, "mailchimp_subscribed.csv", "clinicians")
	if want := time.Date(2023, 3, 14, 16, 15, 2, 0, time.UTC); !rows[0].OptIn.Equal(want) {
		t.Errorf("Mailchimp's CONFIRM_TIME: %v", rows[0].OptIn)
	}
	rows, _ = readFile(t, "buttondown.csv", "clinicians")
	if want := time.Date(2024, 4, 2, 10, 11, 12, 123456000, time.UTC); !rows[0].OptIn.Equal(want) {
		t.Errorf("Buttondown's creation_date: %v", rows[0].OptIn)
	}
}

// TestReadCSVErrors reads bad files: each error names the file and line
// and masks the address.
func TestReadCSVErrors(t *testing.T) {
	t.Parallel()
	f, _ := os.Open("testdata/buttondown.csv")
	defer f.Close()
	_, _, err := ReadCSV("buttondown.csv", f, "", []string{"clinicians"})
	if err == nil || !strings.Contains(err.Error(), `buttondown.csv:6: subscriber_type: "unactivated"`) {
		t.Errorf("an unconfirmed Buttondown subscriber: %v", err)
	}
	tests := []struct{ csv, want string }{
		{"email,lists\nana@clinic.example,clinicians\nnot an address,clinicians\n", `in.csv:3: email: "n***" is not an address`},
		{"email,lists\nana@clinic.example,clinicians\nAna@Clinic.example,patients\n", "in.csv:3: email: a***@clinic.example is also on line 2"},
		{"email,lists,status\nana@clinic.example,clinicians,gone\n", `in.csv:2: status: "gone"`},
		{"email,lists\nana@clinic.example,\n", "in.csv:2: lists: empty"},
		{"email,lists\nana@clinic.example,a/b\n", `in.csv:2: lists: list "a/b"`},
		{"email,name,lists\nana@clinic.example,\"Ana\nBcc: x\",a\n", "in.csv:2: name: "},
		{"mail,list\nana@clinic.example,a\n", "in.csv:1: the columns are not those"},
		{"", "in.csv:1: EOF"},
	}
	for _, tt := range tests {
		_, _, err := ReadCSV("in.csv", strings.NewReader(tt.csv), "", nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "ana@") {
			t.Errorf("%q: %v, want %q", tt.csv, err, tt.want)
		}
	}
	if _, _, err := ReadCSV("mc.csv", strings.NewReader("Email Address\nana@clinic.example\n"), "", nil); err == nil || !strings.Contains(err.Error(), "say which lists") {
		t.Errorf("a Mailchimp export with no lists given: %v", err)
	}
}

// TestImport imports over a log: suppressed, erased and unsubscribed
// addresses stay out, and the export reads back as it was written.
func TestImport(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	dora, eli, ana := "dora.v@nurses.example", "eli@spam.example", "ana.okafor@clinic.example"
	ben := "ben.hale@hospital.example"
	subBen := subscribe(ben, t0, "clinicians")
	events := []Event{
		event(Bounced, dora, t0),                // suppressed before the import
		event(Erased, "chidi@mail.example", t0), // erased
		event(Unsubscribed, ana, t0, "patients"),
		subBen, // pending: the import leaves it pending
	}
	st := Fold(events)
	rows, _ := readFile(t, "subscribers.csv")
	// The bounced row comes back as subscribed: it stays out all the same.
	for i := range rows {
		if rows[i].Email == dora {
			rows[i].Status = "subscribed"
		}
	}
	imported, rep := st.Import(secret, rows, "import:rounds", t0.Add(day))
	if rep.Added != 1 || rep.Unsubscribed != 0 || rep.Suppressed != 1 || len(rep.Skipped) != 3 {
		t.Errorf("report %+v", rep)
	}
	for _, s := range rep.Skipped {
		if strings.Contains(s.Email, "@") && !strings.Contains(s.Email, "***") {
			t.Errorf("an address unmasked in the report: %s", s.Email)
		}
	}
	st = Fold(append(events, imported...))
	if got := emails(st.Recipients("clinicians")); !slices.Equal(got, []string{ana}) {
		t.Errorf("clinicians after the import: %v", got)
	}
	if got := emails(st.Recipients("patients")); len(got) != 0 {
		t.Errorf("patients after the import: %v (ana unsubscribed before it)", got)
	}
	if st.Suppressed(Key(secret, eli)) != Complaint || st.Suppressed(Key(secret, dora)) != HardBounce {
		t.Errorf("suppressions lost")
	}
	if s, _ := st.Subscriber(Key(secret, ben)); s.Lists[0].Status != Pending {
		t.Errorf("ben's pending subscription: %+v", s.Lists)
	}
	// Importing the same file again adds nothing.
	again, rep := st.Import(secret, rows, "import:rounds", t0.Add(2*day))
	if rep.Added != 0 {
		t.Errorf("a second import adds %d: %+v", rep.Added, again)
	}

	// The export reads back; subscriber by subscriber, as the state says.
	var b bytes.Buffer
	if err := st.Export(&b); err != nil {
		t.Fatal(err)
	}
	// (The complaint of an address the log did not know is kept by key
	// alone: it suppresses the address without keeping it.)
	want := "email,name,lists,status\n" +
		"ana.okafor@clinic.example,Ana Okafor,clinicians,subscribed\n"
	if b.String() != want {
		t.Errorf("export:\n%s\nwant\n%s", b.String(), want)
	}
	if _, _, err := ReadCSV("export.csv", &b, FormatRounds, nil); err != nil {
		t.Errorf("the export does not read back: %v", err)
	}
}

// TestExportFormula writes a name a spreadsheet would run as a formula.
func TestExportFormula(t *testing.T) {
	t.Parallel()
	sub := subscribe("ana@clinic.example", t0, "clinicians")
	sub.Name = "=HYPERLINK(\"http://x.example\")"
	var b bytes.Buffer
	Fold([]Event{sub, confirm(sub, t0)}).Export(&b)
	if !strings.Contains(b.String(), `"'=HYPERLINK(""http://x.example"")"`) {
		t.Errorf("export: %s", b.String())
	}
	rows, _, err := ReadCSV("x.csv", &b, "", nil)
	if err != nil || rows[0].Name != sub.Name {
		t.Errorf("read back: %+v, %v", rows, err)
	}
}

func TestReadCSVLimits(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("email,lists\n")
	for i := range 150 {
		fmt.Fprintf(&b, "bad%d,a\n", i)
	}
	_, _, err := ReadCSV("bad.csv", strings.NewReader(b.String()), "", nil)
	if n := len(strings.Split(err.Error(), "\n")); n > 103 || !strings.Contains(err.Error(), "too many errors") {
		t.Errorf("%d errors", n)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		t.Errorf("not a joined error")
	}
}
