package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MaxMessageSize is the largest message ParseMessage reads, in bytes: a
// bounce carries the report and often the original newsletter, which is
// far smaller than this.
const MaxMessageSize = 8 << 20

// maxParts and maxDepth bound the MIME structure read from a message:
// the parts read in all, and how deep multiparts nest. maxReportSize
// bounds a report's machine-readable part, and the header of the
// original read from it, far above any real one's size.
const (
	maxParts      = 64
	maxDepth      = 4
	maxReportSize = 256 << 10
)

// ErrNotReport is the error of a message that is neither a delivery
// status notification nor a feedback report: an auto-reply, a person's
// answer, spam sent to the bounce address, a read receipt.
var ErrNotReport = errors.New("not a delivery status notification or a feedback report")

// ParseMessage reads one message from the bounce mailbox and returns
// its reports, with Source set to SourceIMAP.
//
// A delivery status notification (multipart/report;
// report-type=delivery-status, RFC 3464) gives a report for each
// recipient whose Action is failed or delayed: a failure with a 5.x.x
// Status is Hard; a 4.x.x one, a delay, or a failure with no usable
// status is Soft. A recipient is named by Original-Recipient, or else
// Final-Recipient. An ARF feedback report (report-type=feedback-report,
// RFC 5965) of Feedback-Type abuse, fraud, virus or other gives a
// Complaint for its Original-Rcpt-To, or else for the single address in
// the To of the original message it carries.
//
// A valid report that names no failure (a success notice, a not-spam
// feedback report) gives no reports and no error. A message that is not
// a report gives an error wrapping ErrNotReport; a malformed one, an
// error that says what is wrong. Either way it gives no reports. The
// message is read up to MaxMessageSize; errors never hold an address
// unmasked.
func ParseMessage(r io.Reader) ([]Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxMessageSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the message: %w", err)
	}
	if len(data) > MaxMessageSize {
		return nil, fmt.Errorf("the message is larger than %d MiB", MaxMessageSize>>20)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading the message's header: %s", masked(err))
	}
	var p parser
	rep, err := p.find(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	if err != nil {
		return nil, err
	}
	sent, _ := msg.Header.Date()
	var reports []Report
	if rep.kind == "feedback-report" {
		reports, err = rep.complaints(sent)
	} else {
		reports, err = rep.bounces(sent)
	}
	if err != nil {
		return nil, err
	}
	id := ""
	if rep.original != nil {
		id = messageID(rep.original.Get("Message-ID"))
	}
	for i := range reports {
		reports[i].Source = SourceIMAP
		reports[i].MessageID = id
	}
	return reports, nil
}

// A parser walks a message's MIME structure, counting the parts it reads.
type parser struct {
	parts int
}

// A report is the machine-readable part of a multipart/report and the
// header of the original message, when it carries one.
type report struct {
	kind     string // "delivery-status" or "feedback-report"
	status   []byte // the message/delivery-status or message/feedback-report part, decoded
	original textproto.MIMEHeader
}

// statusTypes are the media types of a report's machine-readable part,
// by report-type.
var statusTypes = map[string][]string{
	"delivery-status": {"message/delivery-status", "message/global-delivery-status"},
	"feedback-report": {"message/feedback-report"},
}

// originalTypes are the media types of the original message, or of its
// header, that a report carries.
var originalTypes = []string{"message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers"}

// find returns the first multipart/report in the entity with header h
// and body body, looking into multiparts that hold one.
func (p *parser) find(h textproto.MIMEHeader, body io.Reader, depth int) (*report, error) {
	ct := h.Get("Content-Type")
	if ct == "" {
		return nil, fmt.Errorf("%w: it has no Content-Type", ErrNotReport)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("reading a Content-Type: %s", masked(err))
	}
	switch {
	case mt == "multipart/report":
		return p.report(params, body)
	case !strings.HasPrefix(mt, "multipart/"):
		return nil, fmt.Errorf("%w: it is %s", ErrNotReport, untrusted(mt, 60))
	case depth >= maxDepth:
		return nil, fmt.Errorf("the message's multiparts nest more than %d deep", maxDepth)
	}
	mr, err := p.multipart(mt, params, body)
	if err != nil {
		return nil, err
	}
	for {
		part, err := p.next(mr, mt)
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no part of it is a multipart/report", ErrNotReport)
		}
		if err != nil {
			return nil, err
		}
		rep, err := p.find(part.Header, part, depth+1)
		if err == nil || !errors.Is(err, ErrNotReport) {
			return rep, err
		}
	}
}

// report reads a multipart/report's parts.
func (p *parser) report(params map[string]string, body io.Reader) (*report, error) {
	kind := strings.ToLower(params["report-type"])
	want, ok := statusTypes[kind]
	switch {
	case kind == "":
		return nil, errors.New("the multipart/report has no report-type")
	case !ok:
		return nil, fmt.Errorf("%w: it is a report of type %q", ErrNotReport, untrusted(kind, 60))
	}
	mr, err := p.multipart("multipart/report", params, body)
	if err != nil {
		return nil, err
	}
	rep := &report{kind: kind}
	for {
		part, err := p.next(mr, "multipart/report")
		if err == io.EOF {
			break
		}
		if err != nil {
			if rep.status != nil {
				// The report was whole; what came after it (the
				// original message) is cut or broken, and optional.
				break
			}
			return nil, err
		}
		mt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch {
		case rep.status == nil && slices.Contains(want, mt):
			if rep.status, err = io.ReadAll(io.LimitReader(decoded(part), maxReportSize+1)); err != nil {
				return nil, fmt.Errorf("reading the %s part: %s", mt, masked(err))
			}
			if len(rep.status) > maxReportSize {
				return nil, fmt.Errorf("the %s part is larger than %d KiB", mt, maxReportSize>>10)
			}
		case rep.original == nil && slices.Contains(originalTypes, mt):
			// Only the original's header is wanted, and it may be
			// cut: keep whatever fields could be read.
			r := io.LimitReader(decoded(part), maxReportSize)
			rep.original, _ = textproto.NewReader(bufio.NewReader(r)).ReadMIMEHeader()
		}
	}
	if rep.status == nil {
		return nil, fmt.Errorf("the %s report has no %s part", kind, want[0])
	}
	return rep, nil
}

// multipart returns a reader of a multipart's parts.
func (p *parser) multipart(mt string, params map[string]string, body io.Reader) (*multipart.Reader, error) {
	b := params["boundary"]
	if b == "" || len(b) > 200 {
		return nil, fmt.Errorf("the %s has no usable boundary", mt)
	}
	return multipart.NewReader(body, b), nil
}

// next returns a multipart's next part, raw, or io.EOF after the last.
func (p *parser) next(mr *multipart.Reader, mt string) (*multipart.Part, error) {
	part, err := mr.NextRawPart()
	if err == io.EOF {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("reading the parts of the %s: %s", mt, masked(err))
	}
	if p.parts++; p.parts > maxParts {
		return nil, fmt.Errorf("the message has more than %d MIME parts", maxParts)
	}
	return part, nil
}

// decoded undoes a part's Content-Transfer-Encoding.
func decoded(part *multipart.Part) io.Reader {
	switch strings.ToLower(strings.TrimSpace(part.Header.Get("Content-Transfer-Encoding"))) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, part)
	case "quoted-printable":
		return quotedprintable.NewReader(part)
	}
	return part
}

// fields reads the groups of fields of a report's machine-readable part:
// RFC 3464's per-message fields then a group per recipient, or RFC
// 5965's single group.
func fields(kind string, b []byte) ([]textproto.MIMEHeader, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	var groups []textproto.MIMEHeader
	for len(groups) <= maxReports {
		h, err := r.ReadMIMEHeader()
		if len(h) > 0 {
			groups = append(groups, h)
		}
		if err == io.EOF {
			return groups, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading the %s fields: %s", kind, masked(err))
		}
	}
	return nil, fmt.Errorf("the %s part has more than %d groups of fields", kind, maxReports)
}

// bounces returns the failed and delayed recipients of a delivery status
// notification sent at sent.
func (rep *report) bounces(sent time.Time) ([]Report, error) {
	groups, err := fields(rep.kind, rep.status)
	if err != nil {
		return nil, err
	}
	var perMessage textproto.MIMEHeader
	var reports []Report
	recipients, unreadable := 0, 0
	for _, h := range groups {
		if h.Get("Final-Recipient") == "" && h.Get("Original-Recipient") == "" {
			if perMessage == nil {
				perMessage = h
			}
			continue
		}
		recipients++
		action := firstWord(h.Get("Action"))
		if action != "failed" && action != "delayed" {
			continue // delivered, relayed, expanded
		}
		addr := recipient(h.Get("Original-Recipient"))
		if addr == "" {
			addr = recipient(h.Get("Final-Recipient"))
		}
		if addr == "" {
			unreadable++
			continue
		}
		status := statusCode(h.Get("Status"))
		code := h.Get("Diagnostic-Code")
		kind := Soft
		if action == "failed" && (strings.HasPrefix(status, "5") || status == "" && replyClass(code) == '5') {
			kind = Hard
		}
		when := date(h.Get("Last-Attempt-Date"))
		if when.IsZero() && perMessage != nil {
			when = date(perMessage.Get("Arrival-Date"))
		}
		if when.IsZero() {
			when = sent
		}
		reports = append(reports, Report{Address: addr, Kind: kind, Time: when, Diagnostic: diagnostic(status, code)})
	}
	switch {
	case recipients == 0:
		return nil, errors.New("the delivery-status part names no recipient")
	case len(reports) == 0 && unreadable > 0:
		return nil, errors.New("the delivery-status part names no recipient whose address can be read")
	}
	return reports, nil
}

// complaintTypes are the feedback types that are complaints; others
// (not-spam, auth-failure) are not.
var complaintTypes = []string{"abuse", "fraud", "virus", "other"}

// complaints returns the complaint of an ARF feedback report sent at sent.
func (rep *report) complaints(sent time.Time) ([]Report, error) {
	groups, err := fields(rep.kind, rep.status)
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, errors.New("the feedback-report part is empty")
	}
	h := groups[0]
	typ := firstWord(h.Get("Feedback-Type"))
	switch {
	case typ == "":
		return nil, errors.New("the feedback report has no Feedback-Type")
	case !slices.Contains(complaintTypes, typ):
		return nil, nil
	}
	var addrs []string
	for _, v := range h.Values("Original-Rcpt-To") {
		if a := address(v); a != "" && !slices.Contains(addrs, a) && len(addrs) < maxReports {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 && rep.original != nil {
		if to, err := mail.ParseAddressList(rep.original.Get("To")); err == nil && len(to) == 1 {
			addrs = append(addrs, to[0].Address)
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("the feedback report names no recipient: it has no Original-Rcpt-To, and the original's To is missing, redacted or not one address")
	}
	when := date(h.Get("Arrival-Date"))
	if when.IsZero() {
		when = date(h.Get("Received-Date"))
	}
	if when.IsZero() {
		when = sent
	}
	d := diagnostic("feedback-type "+typ, h.Get("User-Agent"))
	reports := make([]Report, len(addrs))
	for i, a := range addrs {
		reports[i] = Report{Address: a, Kind: Complaint, Time: when, Diagnostic: d}
	}
	return reports, nil
}

// recipient returns the address of a Final-Recipient or
// Original-Recipient field ("rfc822; user@example.org"), or "" when its
// address type is not an Internet one or the address cannot be read.
func recipient(v string) string {
	typ, addr, ok := strings.Cut(v, ";")
	if !ok {
		return ""
	}
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case "rfc822", "utf-8":
		return address(addr)
	}
	return ""
}

// status finds an enhanced status code (RFC 3463) at a Status field's start.
var status = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}\b`)

// statusCode returns the enhanced status code of a Status field, or "".
func statusCode(v string) string {
	return status.FindString(strings.TrimSpace(v))
}

// replyClass returns the first digit of the SMTP reply in a
// Diagnostic-Code field ("smtp; 550 ..."), or 0.
func replyClass(v string) byte {
	typ, text, ok := strings.Cut(v, ";")
	text = strings.TrimSpace(text)
	if !ok || !strings.EqualFold(strings.TrimSpace(typ), "smtp") || len(text) < 3 {
		return 0
	}
	if c := text[0]; (c == '4' || c == '5') && isDigit(text[1]) && isDigit(text[2]) {
		return c
	}
	return 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// firstWord returns a field's first word, in lower case.
func firstWord(v string) string {
	f := strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ';' || r == '(' })
	if len(f) == 0 {
		return ""
	}
	return strings.ToLower(f[0])
}

// date parses a date field, or returns the zero time.
func date(v string) time.Time {
	if v == "" || len(v) > 100 {
		return time.Time{}
	}
	t, err := mail.ParseDate(v)
	if err != nil {
		return time.Time{}
	}
	return t
}
