package bounce

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// want is what a test expects of one report.
type want struct {
	addr, kind, diag, id string
	time                 string // RFC 3339, or "" for the zero time
}

func TestParseMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		reports []want
		err     string // a part of the error, or "" for none
		notRep  bool   // the error wraps ErrNotReport
	}{
		{file: "postfix-hard.eml", reports: []want{
			{"nobody@patients.example", "hard", "5.1.1 smtp; 550 5.1.1 <n***@patients.example>: Recipient address rejected: User unknown in virtual mailbox table",
				"2024-w20.patients.6f1c0a9e3b27d45e81aa@news.rounds.example", "2024-05-14T06:02:09Z"},
			{"full.box@clinic.example", "hard", "5.2.2 smtp; 552 5.2.2 Mailbox full",
				"2024-w20.patients.6f1c0a9e3b27d45e81aa@news.rounds.example", "2024-05-14T06:02:09Z"},
		}},
		{file: "exim-hard.eml", reports: []want{
			{"gone@surgery.example", "hard", "5.0.0 smtp; 550 No such user here",
				"2024-w14.clinicians.0b9a77c1d2e3f4a5b6c7@news.rounds.example", "2024-04-03T07:15:42+01:00"},
		}},
		{file: "gmail-hard.eml", reports: []want{
			{"no.such.reader@gmail.example", "hard", "5.1.1 smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking",
				"2024-w21.public.19ab28cd37ef46a15b2c@news.rounds.example", "2024-05-20T02:54:38-07:00"},
		}},
		{file: "outlook-hard.eml", reports: []want{
			{"former.patient@outlook.example", "hard", "5.1.10 smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient f***@outlook.example not found by SMTP address lookup",
				"2024-w23.patients.7c6d5e4f3a2b1c0d9e8f@news.rounds.example", "2024-06-06T08:31:03Z"},
		}},
		{file: "postfix-delayed.eml", reports: []want{
			{"slow.reader@rural-practice.example", "soft", "4.4.1 X-Postfix; connect to mx.rural-practice.example[192.0.2.10]:25: Connection timed out",
				"2024-w20.clinicians.aa01bb02cc03dd04ee05@news.rounds.example", "2024-05-17T06:02:10Z"},
		}},
		{file: "truncated-original.eml", reports: []want{
			{"left.practice@surgery.example", "hard", "5.1.1 smtp; 550 5.1.1 User unknown", "", "2024-04-03T07:15:42+01:00"},
		}},
		{file: "huge-line.eml", reports: []want{
			{"long.winded@verbose.example", "hard", "5.7.1 smtp; 550 5.7.1 blocked blocked", "", "2024-06-06T09:00:00Z"},
		}},
		{file: "arf-yahoo.eml", reports: []want{
			{"tired.reader@yahoo.example", "complaint", "feedback-type abuse Yahoo!-Mail-Feedback/2.0",
				"2024-w22.public.5a4b3c2d1e0f9a8b7c6d@news.rounds.example", "2024-05-28T06:02:14Z"},
		}},
		{file: "arf-aol.eml", reports: []want{
			{"annoyed.reader@aol.example", "complaint", "feedback-type abuse AOL SComp",
				"2024-w24.public.0f1e2d3c4b5a69788796@news.rounds.example", "2024-06-10T06:02:20-04:00"},
		}},
		{file: "arf-not-spam.eml"},
		{file: "truncated-status.eml", err: "reading the message/delivery-status part"},
		{file: "missing-status.eml", err: "has no message/delivery-status part"},
		{file: "no-boundary.eml", err: "no usable boundary"},
		{file: "bad-address.eml", err: "no recipient whose address can be read"},
		{file: "read-receipt.eml", err: "disposition-notification", notRep: true},
		{file: "out-of-office.eml", err: "text/plain", notRep: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseMessage(bytes.NewReader(data))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("error: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error %v, want one saying %q", err, tt.err)
			case err != nil && errors.Is(err, ErrNotReport) != tt.notRep:
				t.Errorf("errors.Is(%v, ErrNotReport) = %v", err, !tt.notRep)
			case err != nil && strings.Contains(err.Error(), "@"):
				t.Errorf("the error holds an address: %v", err)
			}
			checkReports(t, got, tt.reports, SourceIMAP)
		})
	}
}

// checkReports compares reports with what a test wants of them.
func checkReports(t *testing.T, got []Report, wants []want, source string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d reports, want %d: %+v", len(got), len(wants), got)
	}
	for i, w := range wants {
		r := got[i]
		var when time.Time
		if w.time != "" {
			when, _ = time.Parse(time.RFC3339, w.time)
		}
		if r.Address != w.addr || string(r.Kind) != w.kind || r.MessageID != w.id || r.Source != source || !r.Time.Equal(when) {
			t.Errorf("report %d:\n got %s %s %s %s %s\nwant %s %s %s %s %s", i,
				r.Address, r.Kind, r.MessageID, r.Source, r.Time.Format(time.RFC3339),
				w.addr, w.kind, w.id, source, w.time)
		}
		if !strings.HasPrefix(r.Diagnostic, w.diag) || len(r.Diagnostic) > MaxDiagnostic {
			t.Errorf("report %d: diagnostic %q, want one starting %q of at most %d bytes", i, r.Diagnostic, w.diag, MaxDiagnostic)
		}
	}
}

func TestParseMessageBounds(t *testing.T) {
	t.Parallel()
	part := "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
	tests := []struct {
		name, msg, err string
	}{
		{"too large", "Subject: x\r\n\r\n" + strings.Repeat("x", MaxMessageSize), "larger than 8 MiB"},
		{"too many parts", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n" +
			strings.Repeat(part, maxParts+1) + "--b--\r\n", "more than 64 MIME parts"},
		{"nested too deep", nested(maxDepth + 1), "nest more than 4 deep"},
		{"too many recipients", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n" +
			strings.Repeat("Final-Recipient: rfc822; a@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n", maxReports+1) +
			"--b--\r\n", "more than 100 groups"},
		{"report too large", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/delivery-status\r\n\r\n" + strings.Repeat("X-A: b\r\n", maxReportSize/8+1) +
			"\r\n--b--\r\n", "larger than 256 KiB"},
		{"no report-type", "Content-Type: multipart/report; boundary=b\r\n\r\n--b--\r\n", "no report-type"},
		{"bad header", "Subject x\r\n\r\nbody", "reading the message's header"},
		{"no recipient", "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n--b--\r\n", "names no recipient"},
		{"no feedback type", "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/feedback-report\r\n\r\nVersion: 1\r\n\r\n--b--\r\n", "no Feedback-Type"},
		{"redacted recipient", "Content-Type: multipart/report; report-type=feedback-report; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n\r\n--b\r\n" +
			"Content-Type: text/rfc822-headers\r\n\r\nTo: redacted\r\n\r\n--b--\r\n", "names no recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseMessage(strings.NewReader(tt.msg))
			if err == nil || !strings.Contains(err.Error(), tt.err) || got != nil {
				t.Errorf("got %d reports and error %v, want none and one saying %q", len(got), err, tt.err)
			}
		})
	}
}

// nested returns a message of multiparts nested n deep.
func nested(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nx\r\n")
	for i := n - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.String()
}

// TestParseMessageEncoded reads a report whose parts are base64 and
// quoted-printable, inside a multipart/mixed, and one whose Status is
// missing: its kind comes from the SMTP reply.
func TestParseMessageEncoded(t *testing.T) {
	t.Parallel()
	msg := "Date: Thu, 6 Jun 2024 09:00:00 +0000\r\n" +
		"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: message/delivery-status\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		// Reporting-MTA: dns; x.example\n\nFinal-Recipient: rfc822; ann@x.example\nAction: failed\nDiagnostic-Code: smtp; 554 rejected\n
		"UmVwb3J0aW5nLU1UQTogZG5zOyB4LmV4YW1wbGUKCkZpbmFsLVJlY2lwaWVudDogcmZjODIy\r\n" +
		"OyBhbm5AeC5leGFtcGxlCkFjdGlvbjogZmFpbGVkCkRpYWdub3N0aWMtQ29kZTogc210cDsg\r\n" +
		"NTU0IHJlamVjdGVkCg==\r\n--b\r\n" +
		"Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"Message-ID: <id=3D1@x.example>\r\n\r\n--b--\r\n--m--\r\n"
	got, err := ParseMessage(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	checkReports(t, got, []want{{"ann@x.example", "hard", "smtp; 554 rejected", "id=1@x.example", "2024-06-06T09:00:00Z"}}, SourceIMAP)
}
