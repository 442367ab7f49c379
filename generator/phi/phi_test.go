package phi

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/corpus"
)

// labelledLines returns the text of the lines of testdata/labelled.tsv.
func labelledLines(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "labelled.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if _, text, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(l, "#") {
			lines = append(lines, text)
		}
	}
	return lines
}

// phiCueCases are lines made to sit at the edge of each pattern's cue.
var phiCueCases = []string{
	"MRN: ABC-DEF-GHI", "chart no. AB-CD-EF", "ssn 123 45 6789", "Social security no. 123-45-6789",
	"call (555) 123-4567 or +44 20 7946 0958, fax 020 7946 0959", "07700 900123",
	"seen on 3-jan-2024 by her GP", "she was born 4 July 1931", "admitted March 3rd, 2024", "discharged 2024-01-05", "dob 1/2/33",
	"lives at 12 Baker Street", "moved to 7 Kingsway NW", "lives in NY 10001", "home postcode SW1A 1AA", "SW1A1AA is her home", "address: 90210-1234", "postcode: EC1A 1BB", "post code 90210", "residence 10001", "located in 60614",
	"a 95-year-old man", "aged 101", "ninety-three years old", "age: 99", "92F presented", "people aged 90 and over",
	"95 y/o", "a 97yo woman", "110 yrs", "she is 93 F", "aged 950", "the 1190s", "91_x years",
	"+1 555 123 4567", "555.123.4567", "(555) 123-4567", "1234 567-8901", "020 7946 0958", "07700900123", "2023-11-01T00:25:00Z",
	"fe80::1 and 2001:db8:0:0:0:0:0:1", "dead::beef", "10.0.0.1 and 192.168.1.20", "v1.2.3 and version 10.4.1",
	"doi:10.1056/NEJMoa1911303 PMID: 31535829 PMC6893803 NCT03036124 ISSN 1234-567X",
	"https://example.org/a?b=123-45-6789 www.example.org/12345", "jane.doe@example.org, press@nhs.uk",
	"Kelvin \u212a and long \u017f: \u017f\u017fn 123-45-6789, \u212aingsway", "MRN\u00a012345678",
	"Mrs. Okafor", "mr. okafor", "MRS Okafor", "our patient, Ana Ruiz", "her DAUGHTER, Priya", "the patient's son Ravi",
	"Mr. Ruiz, the lead author", "said Mrs. Ng", "S/N: AB-1234", "s/n: AB-1234", "SN 12345X", "sn 12345X", "serial number PX4471K92",
	"Serial No. 44K1-9902", "licence plate KY19 WFD", "License-plate 7XRT482", "number plate AB12 CDE", "registration as BD19 LMN",
	"VIN 1HGCM82633A004352", "subscriber ID QRT7781290", "Member ID: XKR-552-10384", "patient id HN-44812-B",
}

// TestPHICuesExact scans the labelled lines, the edge cases and the lines
// of a synthetic newsletter with and without the cues: the cues may only
// skip patterns that would find nothing, so the hits must be the same.
func TestPHICuesExact(t *testing.T) {
	t.Parallel()
	lines := append(labelledLines(t), phiCueCases...)
	dir := t.TempDir()
	if err := corpus.Write(dir, 300, filepath.Join("..", "..", "themes", "default")); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "content", "*", "*.md"))
	for _, f := range files {
		file, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		file.Close()
	}
	var fast, slow scanner
	hits := 0
	for _, l := range lines {
		got, want := fast.scan(l, false), slow.scan(l, true)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: with cues %v, without %v", l, got, want)
		}
		hits += len(want)
	}
	if hits < 100 {
		t.Errorf("only %d hits in %d lines: the comparison needs lines that match", hits, len(lines))
	}
}

// FuzzPHICues compares the scan with and without cues on any line.
//
//	go test -run XXX -fuzz FuzzPHICues ./generator/phi
func FuzzPHICues(f *testing.F) {
	for _, l := range append(labelledLines(f), phiCueCases...) {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var fast, slow scanner
		if got, want := fast.scan(line, false), slow.scan(line, true); !reflect.DeepEqual(got, want) {
			t.Errorf("%q: with cues %v, without %v", line, got, want)
		}
	})
}

// BenchmarkScan scans the notes of a synthetic newsletter for patient
// identifiers, as a build does every content file.
//
//	go test -run XXX -bench BenchmarkScan ./generator/phi
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	if err := corpus.Write(dir, 1000, filepath.Join("..", "..", "themes", "default")); err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "content", "notes", "*.md"))
	var data []string
	size := 0
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, string(d))
		size += len(d)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for _, d := range data {
			ScanFile(d)
		}
	}
}

// TestPHIPrecisionRecall measures the patient-identifier rule on the
// labelled lines of testdata/labelled.tsv, which the rule was tuned on,
// and of testdata/heldout.tsv, written before the rule changed and never
// tuned on: each line's kinds as labelled against the kinds Scan finds.
func TestPHIPrecisionRecall(t *testing.T) {
	t.Parallel()
	for _, set := range []struct {
		file     string
		minLines int
		min      float64
	}{{"labelled.tsv", 200, 0.9}, {"heldout.tsv", 50, 0.9}} {
		t.Run(strings.TrimSuffix(set.file, ".tsv"), func(t *testing.T) {
			precision, recall, lines := measure(t, filepath.Join("testdata", set.file))
			if lines < set.minLines {
				t.Errorf("only %d labelled lines; the measure needs at least %d", lines, set.minLines)
			}
			if precision < set.min || recall < set.min {
				t.Errorf("precision %.3f, recall %.3f: both should be at least %.2f", precision, recall, set.min)
			}
		})
	}
}

// measure scans the lines of a labelled file and returns the rule's
// precision and recall on them, logging each miss and false alarm.
func measure(t *testing.T, file string) (precision, recall float64, lines int) {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tp, fp, fn int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") || strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		labels, text, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("line without a tab: %q", sc.Text())
		}
		lines++
		var want []string
		if labels != "-" {
			want = strings.Split(labels, ",")
		}
		var got []string
		for _, h := range Scan(text) {
			got = append(got, h.Kind)
		}
		sort.Strings(got)
		got = slices.Compact(got)
		for _, k := range got {
			if slices.Contains(want, k) {
				tp++
			} else {
				fp++
				t.Logf("false positive %s: %s", k, text)
			}
		}
		for _, k := range want {
			if !slices.Contains(got, k) {
				fn++
				t.Logf("missed %s: %s", k, text)
			}
		}
	}
	precision = float64(tp) / float64(max(tp+fp, 1))
	recall = float64(tp) / float64(max(tp+fn, 1))
	t.Logf("PHI rule on %d labelled lines of %s: precision %.3f (%d true, %d false positives), recall %.3f (%d missed)", lines, filepath.Base(file), precision, tp, fp, recall, fn)
	return precision, recall, lines
}
