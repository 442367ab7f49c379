package bounce

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseMessage checks that no message makes ParseMessage panic, and
// that what it returns stays within bounds.
func FuzzParseMessage(f *testing.F) {
	seed(f, "*.eml")
	f.Fuzz(func(t *testing.T, data []byte) {
		reports, err := ParseMessage(bytes.NewReader(data))
		checkBounded(t, reports, err, SourceIMAP)
	})
}

// FuzzParseSESEvent does the same for the SES events of SNS messages.
func FuzzParseSESEvent(f *testing.F) {
	seed(f, "ses-*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		reports, err := parseSESEvent(data)
		checkBounded(t, reports, err, SourceSNS)
	})
}

// seed adds the testdata files matching pattern to a fuzz test's corpus.
func seed(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// checkBounded checks that a parse returned no reports with an error,
// no more than maxReports, and each with an address, a kind, its source
// and a bounded diagnostic, and an error without an address.
func checkBounded(t *testing.T, reports []Report, err error, source string) {
	t.Helper()
	if err != nil && reports != nil {
		t.Fatalf("%d reports with the error %v", len(reports), err)
	}
	if err != nil {
		for _, a := range emailish.FindAllString(err.Error(), -1) {
			if !strings.Contains(a, "***@") {
				t.Fatalf("the error holds an address: %v", err)
			}
		}
	}
	if len(reports) > maxReports {
		t.Fatalf("%d reports", len(reports))
	}
	for _, r := range reports {
		if !strings.Contains(r.Address, "@") || r.Source != source || len(r.Diagnostic) > MaxDiagnostic {
			t.Fatalf("report %+v", r)
		}
		switch r.Kind {
		case Hard, Soft, Complaint:
		default:
			t.Fatalf("kind %q", r.Kind)
		}
	}
}
