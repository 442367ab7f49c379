package subscribers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoad folds a local log of 100,000 subscribers and 300,000
// events into the send list: written once, untimed; each iteration reads
// and folds it. It reports the CPU time of each (cpu-s/op: on a machine
// shared with other work, wall time says little), the memory the process
// holds from the system (sys-MiB: the peak, as Go does not give memory
// back at once) and the live heap after the fold (heap-MiB).
//
//	go test -run XXX -bench BenchmarkLoad -benchtime 5x ./generator/subscribers/
func BenchmarkLoad(b *testing.B) {
	ctx := context.Background()
	s, err := OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	const subscribers = 100_000
	lists := [][]string{{"clinicians"}, {"patients"}, {"clinicians", "patients"}, {"public"}}
	var batch []Event
	n := 0
	add := func(e Event) {
		batch = append(batch, e)
		n++
		if len(batch) == 10_000 {
			if err := s.Append(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for i := range subscribers {
		email := fmt.Sprintf("reader%06d@mail%d.example", i, i%50)
		t := t0.Add(time.Duration(i) * time.Minute)
		sub := subscribe(email, t, lists[i%len(lists)]...)
		add(sub)
		add(confirm(sub, t.Add(time.Hour)))
		switch i % 10 {
		case 0, 1, 2, 3:
			add(event(Unsubscribed, email, t.Add(48*time.Hour), sub.Lists[0]))
		case 4, 5, 6:
			add(soft(email, t.Add(72*time.Hour)))
		case 7:
			add(event(Bounced, email, t.Add(96*time.Hour)))
		case 8:
			add(event(Complained, email, t.Add(96*time.Hour)))
		case 9:
			add(soft(email, t.Add(24*time.Hour)))
		}
	}
	if err := s.Append(ctx, batch...); err != nil {
		b.Fatal(err)
	}
	if n != 3*subscribers {
		b.Fatalf("%d events", n)
	}
	runtime.GC()
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	b.ResetTimer()
	var st *State
	for b.Loop() {
		st, err = Load(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		if r := st.Recipients("clinicians"); len(r) == 0 {
			b.Fatal("no recipients")
		}
	}
	b.StopTimer()
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.Sys)/(1<<20), "sys-MiB")
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MiB")
	runtime.KeepAlive(st)
}

// countingMailer counts the confirmations it is given.
type countingMailer struct{ n atomic.Int64 }

func (m *countingMailer) Confirm(context.Context, Confirmation) error {
	m.n.Add(1)
	return nil
}

// BenchmarkSubscribe posts sign-up forms, each for a new address, to the
// service on loopback over keep-alive connections from parallel clients,
// with a log in a folder (each sign-up appended durably, fsync and all)
// and a mailer that only counts; it reports requests per second.
//
//	go test -run XXX -bench BenchmarkSubscribe -benchtime 20000x ./generator/subscribers/
func BenchmarkSubscribe(b *testing.B) {
	store, err := OpenFileStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	mail := &countingMailer{}
	svc := &Service{Store: store, Secret: []byte("a-long-enough-bench-secret"), Title: "Rounds", URL: "https://lists.example.org/",
		Lists: map[string]string{"everything": "Every note"}, Consent: "Send me the lists I chose.", Mailer: mail,
		Limits: Limits{PerIP: 1 << 30, IPEvery: time.Nanosecond, PerAddress: 3, AddressEvery: time.Hour}}
	srv := httptest.NewServer(svc)
	defer srv.Close()
	// Each sign-up logs a line; the benchmark's output is for its figures.
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler))
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var next atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			form := url.Values{"email": {fmt.Sprintf("reader%d@example.net", next.Add(1))}, "list": {"everything"}, "page": {"/subscribe/"}}
			res, err := client.PostForm(srv.URL+"/subscribe", form)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if int(mail.n.Load()) != b.N {
		b.Fatalf("%d mails for %d sign-ups", mail.n.Load(), b.N)
	}
}
