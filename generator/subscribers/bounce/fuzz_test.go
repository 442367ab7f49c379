package bounce

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseMessage checks that no message makes ParseMessage panic, and
// that what it returns stays within its bounds: no more than maxReports
// reports, each with an address, a kind and a bounded diagnostic, and
// none with an error.
func FuzzParseMessage(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
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
	f.Fuzz(func(t *testing.T, data []byte) {
		reports, err := ParseMessage(bytes.NewReader(data))
		if err != nil && reports != nil {
			t.Fatalf("%d reports with the error %v", len(reports), err)
		}
		if len(reports) > maxReports {
			t.Fatalf("%d reports", len(reports))
		}
		for _, r := range reports {
			if !strings.Contains(r.Address, "@") || r.Source != SourceIMAP || len(r.Diagnostic) > MaxDiagnostic {
				t.Fatalf("report %+v", r)
			}
			switch r.Kind {
			case Hard, Soft, Complaint:
			default:
				t.Fatalf("kind %q", r.Kind)
			}
		}
	})
}
