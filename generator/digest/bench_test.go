package digest

import (
	"github.com/rounds-health/rounds/generator/smtptest"

	"context"
	"strings"
	"testing"
	"time"
)

// BenchmarkSend sends one edition to 10,000 subscribers through a real
// SMTP server on loopback, over reused connections, with the ledger
// synced to disk as in a real send. Issue 4's target: at least 1,000
// messages a second. Run with bench/send.sh.
func BenchmarkSend(b *testing.B) {
	const n = 10000
	ts := smtptest.New(b, true)
	site, ed, tmpl := load(b, project(b, emailConfig))
	d, err := Render(tmpl, site, ed, site.Config.List("clinicians"))
	if err != nil {
		b.Fatal(err)
	}
	c, _ := newComposerWithSecret(site.Config)
	subs, err := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(n, "clinicians")))
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		l, err := OpenFileLedger(b.TempDir(), ed.Slug, "clinicians")
		if err != nil {
			b.Fatal(err)
		}
		s := sender(b, ts, c, l)
		s.Security, s.TLS, s.Connections = "none", nil, 8
		start := time.Now()
		rep, err := s.Send(context.Background(), d, subs)
		total += time.Since(start)
		l.Close()
		if err != nil || rep.Sent != n {
			b.Fatalf("sent %d of %d: %v", rep.Sent, n, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}
