package digest

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/leak"
)

// A Subscriber is one row of the subscribers file.
type Subscriber struct {
	Email string
	Name  string
	// Lists are the IDs of the lists the subscriber receives.
	Lists []string
	// Status is "subscribed"; anything else ("unsubscribed", "bounced",
	// "complained") receives nothing.
	Status string
	// Ref is the subscription in the subscribers' log that the address
	// receives the list by (its unsubscribe link ends that one), or "".
	Ref string
}

// Active reports whether the subscriber receives the list's digest.
func (s *Subscriber) Active(list string) bool {
	return s.Status == "subscribed" && slices.Contains(s.Lists, list)
}

// Statuses are the statuses a subscriber may have.
var Statuses = []string{"subscribed", "unsubscribed", "bounced", "complained"}

// ReadSubscribers reads a subscribers CSV file: a header row naming the
// columns email, name, lists and status (in any order; name and status
// optional), then one subscriber a row. Lists are separated by spaces or
// semicolons. Problems are reported with the file's name and line, and
// with addresses masked.
func ReadSubscribers(name string, r io.Reader) ([]*Subscriber, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w; the first row names the columns: email,name,lists,status", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"email", "lists"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("%s:1: no %q column; the first row names the columns: email,name,lists,status", name, need)
		}
	}
	field := func(rec []string, key string) string {
		if i, ok := col[key]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var subs []*Subscriber
	var errs []error
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		s := &Subscriber{Email: field(rec, "email"), Name: field(rec, "name"), Status: strings.ToLower(field(rec, "status"))}
		if s.Status == "" {
			s.Status = "subscribed"
		}
		a, err := mail.ParseAddress(s.Email)
		if err != nil || a.Address != s.Email || strings.ContainsAny(s.Email, "\r\n") {
			errs = append(errs, fmt.Errorf("%s:%d: email: %q is not an address; write it as name@example.org", name, line, leak.Mask(s.Email)))
			continue
		}
		s.Email = strings.ToLower(s.Email)
		if strings.ContainsAny(s.Name, "\r\n") {
			errs = append(errs, fmt.Errorf("%s:%d: name: has a line break", name, line))
			continue
		}
		if !slices.Contains(Statuses, s.Status) {
			errs = append(errs, fmt.Errorf("%s:%d: status: %q; use %s", name, line, s.Status, strings.Join(Statuses, ", ")))
			continue
		}
		s.Lists = strings.FieldsFunc(field(rec, "lists"), func(r rune) bool { return r == ';' || r == ' ' || r == ',' })
		if prev, dup := seen[s.Email]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: email: %s is also on line %d; keep one row per subscriber", name, line, leak.Mask(s.Email), prev))
			continue
		}
		seen[s.Email] = line
		subs = append(subs, s)
	}
	return subs, errors.Join(errs...)
}

// LoadSubscribers reads the subscribers file at path.
func LoadSubscribers(path string) ([]*Subscriber, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w; set [email] subscribers in config.toml or $ROUNDS_SUBSCRIBERS", err)
	}
	defer f.Close()
	return ReadSubscribers(path, f)
}

// ReadSubscribersFrom reads the subscribers at loc: a file, or an object
// of a private bucket ("s3://bucket/subscribers.csv") read with client.
func ReadSubscribersFrom(ctx context.Context, client func() (*s3.Client, error), loc string) ([]*Subscriber, error) {
	if !strings.HasPrefix(loc, "s3://") {
		return LoadSubscribers(loc)
	}
	bucket, key, err := ParseS3(loc)
	if err != nil {
		return nil, err
	}
	c, err := client()
	if err != nil {
		return nil, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("subscribers: reading %s: %w", loc, err)
	}
	defer out.Body.Close()
	return ReadSubscribers(loc, out.Body)
}
