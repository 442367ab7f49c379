package bounce

import (
	"encoding/json"
	"fmt"
	"time"
)

// sesEvent is the part of an SES notification (identity feedback, with
// notificationType) or event (configuration set event publishing, with
// eventType) that reports are made of.
type sesEvent struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string         `json:"bounceType"`
		BounceSubType     string         `json:"bounceSubType"`
		BouncedRecipients []sesRecipient `json:"bouncedRecipients"`
		Timestamp         string         `json:"timestamp"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients  []sesRecipient `json:"complainedRecipients"`
		ComplaintFeedbackType string         `json:"complaintFeedbackType"`
		ComplaintSubType      string         `json:"complaintSubType"`
		UserAgent             string         `json:"userAgent"`
		Timestamp             string         `json:"timestamp"`
	} `json:"complaint"`
	Mail struct {
		MessageID     string `json:"messageId"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

type sesRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status"`
	DiagnosticCode string `json:"diagnosticCode"`
}

// parseSESEvent returns the reports of an SES bounce or complaint: a
// Permanent bounce is Hard, a Transient or Undetermined one Soft. Other
// events, and not-spam feedback, give none. MessageID is the original's
// Message-ID header when SES passes it on, or else SES's own message ID.
func parseSESEvent(data []byte) ([]Report, error) {
	var e sesEvent
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%w: its Message is not an SES event: %s", ErrMalformed, masked(err))
	}
	typ := e.NotificationType
	if typ == "" {
		typ = e.EventType
	}
	var reports []Report
	var recipients []sesRecipient
	switch typ {
	case "":
		return nil, fmt.Errorf("%w: its Message is not an SES event", ErrMalformed)
	case "Bounce":
		b := e.Bounce
		if b == nil {
			return nil, fmt.Errorf("%w: an SES bounce without its bounce", ErrMalformed)
		}
		kind := Soft
		switch b.BounceType {
		case "Permanent":
			kind = Hard
		case "Transient", "Undetermined":
		default:
			return nil, fmt.Errorf("%w: unknown SES bounceType %q", ErrMalformed, untrusted(b.BounceType, 40))
		}
		recipients = b.BouncedRecipients
		for _, r := range recipients {
			d := diagnostic(r.Status, r.DiagnosticCode)
			if d == "" {
				d = diagnostic(b.BounceType, b.BounceSubType)
			}
			reports = append(reports, Report{Address: address(r.EmailAddress), Kind: kind, Time: timestamp(b.Timestamp), Diagnostic: d})
		}
	case "Complaint":
		c := e.Complaint
		if c == nil {
			return nil, fmt.Errorf("%w: an SES complaint without its complaint", ErrMalformed)
		}
		if c.ComplaintFeedbackType == "not-spam" {
			return nil, nil
		}
		recipients = c.ComplainedRecipients
		d := diagnostic(c.ComplaintSubType, c.UserAgent)
		if c.ComplaintFeedbackType != "" {
			d = diagnostic("feedback-type "+c.ComplaintFeedbackType, c.UserAgent)
		}
		for _, r := range recipients {
			reports = append(reports, Report{Address: address(r.EmailAddress), Kind: Complaint, Time: timestamp(c.Timestamp), Diagnostic: d})
		}
	default:
		return nil, nil // a delivery, a send, an open: nothing to record
	}
	if len(recipients) > maxReports {
		return nil, fmt.Errorf("%w: an SES %s with more than %d recipients", ErrMalformed, typ, maxReports)
	}
	id := messageID(e.Mail.CommonHeaders.MessageID)
	if id == "" {
		id = messageID(e.Mail.MessageID)
	}
	for i, r := range reports {
		if r.Address == "" {
			return nil, fmt.Errorf("%w: an SES %s's recipient %d is not an address", ErrMalformed, typ, i+1)
		}
		reports[i].Source = SourceSNS
		reports[i].MessageID = id
	}
	if len(reports) == 0 {
		return nil, fmt.Errorf("%w: an SES %s that names no recipient", ErrMalformed, typ)
	}
	return reports, nil
}

// timestamp parses an SES timestamp, or returns the zero time.
func timestamp(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
