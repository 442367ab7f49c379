package subscribers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/s3test"
)

// compacter is a store that compacts.
type compacter interface {
	Store
	Compact(ctx context.Context) error
}

// readAll returns the store's events.
func readAll(t *testing.T, s Store) []Event {
	t.Helper()
	var out []Event
	if err := s.Read(context.Background(), func(e *Event) error {
		out = append(out, *e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// ids returns the events' IDs, sorted.
func ids(events []Event) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.ID)
	}
	slices.Sort(out)
	return out
}

// testStore runs what every store must do. open opens another handle on
// the same store, as a second process would.
func testStore(t *testing.T, s compacter, open func() compacter, raw func() []byte) {
	ctx := context.Background()
	if got := readAll(t, s); len(got) != 0 {
		t.Fatalf("a new store holds %d events", len(got))
	}
	if err := s.Append(ctx, Event{Kind: Subscribed}); err == nil {
		t.Errorf("an invalid event was appended")
	}

	// In order, with every field kept.
	a := subscribe("ana@clinic.example", t0, "clinicians")
	a.Name = "Ana Okafor"
	first := []Event{a, confirm(a, t0.Add(time.Minute))}
	if err := s.Append(ctx, first...); err != nil {
		t.Fatal(err)
	}
	got := readAll(t, s)
	if len(got) != 2 || got[0].ID != a.ID || got[0].Consent == nil || got[0].Consent.IP != a.Consent.IP || got[0].Name != a.Name || !got[0].Time.Equal(t0) {
		t.Fatalf("read back %+v", got)
	}

	// A retried append counts once.
	if err := s.Append(ctx, first...); err != nil {
		t.Fatal(err)
	}
	if st, _ := Load(ctx, s); len(st.Recipients("clinicians")) != 1 {
		t.Errorf("after a retried append: %v", st.Recipients("clinicians"))
	}

	// Two writers, each with goroutines appending at once: nothing lost,
	// nothing twice.
	var want []Event
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w, store := range []Store{s, open()} {
		for g := range 4 {
			wg.Go(func() {
				for i := range 10 {
					e := subscribe(fmt.Sprintf("w%dg%di%d@clinic.example", w, g, i), t0.Add(time.Duration(i)*time.Second), "patients")
					if err := store.Append(ctx, e); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					want = append(want, e)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	// (A retried append may be kept twice, or once: Apply counts it once.)
	got = readAll(t, s)
	if g, w := slices.Compact(ids(got)), ids(append(want, first...)); !slices.Equal(g, w) || len(got) > len(w)+2 {
		t.Errorf("after concurrent appends: %d events (%d distinct), want %d", len(got), len(g), len(w))
	}

	// Compaction forgets the erased subscriber's address, keeps the rest,
	// and changes no one's state.
	if err := s.Append(ctx, event(Erased, "ana@clinic.example", t0.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	before, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw(), []byte("ana@clinic.example")) {
		t.Fatal("the address is not in the store before compaction: the test proves nothing")
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if data := raw(); bytes.Contains(data, []byte("ana@clinic.example")) || bytes.Contains(data, []byte("Ana Okafor")) {
		t.Errorf("the erased address is still in the store")
	}
	after, err := Load(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	// (The erased subscriber's history goes, and with it their part in
	// the clinicians list's counts.)
	if g, w := after.Stats(t0), before.Stats(t0); len(g) != 1 || g[0] != w[1] || after.Len() != 81 || g[0].Pending != 80 {
		t.Errorf("after compaction %+v, before %+v", g, w)
	}
	if after.Suppressed(Key(secret, "ana@clinic.example")) != Erasure {
		t.Errorf("the erased subscriber is no longer suppressed")
	}
	// Appends go on after a compaction, and a second compaction keeps them.
	late := subscribe("late@clinic.example", t0.Add(2*time.Hour), "patients")
	if err := open().Append(ctx, late, confirm(late, t0.Add(3*time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := Load(ctx, s); len(st.Recipients("patients")) != 1 || st.Len() != 82 {
		t.Errorf("after a second compaction: %d recipients, %d subscribers", len(st.Recipients("patients")), st.Len())
	}
}

func TestFileStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() compacter {
		s, err := OpenFileStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	raw := func() []byte {
		var all []byte
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
			all = append(all, data...)
		}
		return all
	}
	testStore(t, open(), open, raw)
}

// TestFileStoreDamage reads a log a crash cut short, and one damaged.
func TestFileStoreDamage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, _ := OpenFileStore(dir)
	a := subscribe("ana@clinic.example", t0, "clinicians")
	if err := s.Append(ctx, a); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, "seg-000001.jsonl")
	// An append that died half-way: ignored by reads, cut off by the next
	// append.
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"id":"half","time":"2026-`)
	f.Close()
	if got := readAll(t, s); len(got) != 1 {
		t.Errorf("with a torn last line: %d events", len(got))
	}
	b := confirm(a, t0.Add(time.Minute))
	if err := s.Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := ids(readAll(t, s)); !slices.Equal(got, ids([]Event{a, b})) {
		t.Errorf("after the next append: %v", got)
	}
	data, _ := os.ReadFile(seg)
	if bytes.Contains(data, []byte("half")) {
		t.Errorf("the torn line is still there")
	}

	// A damaged line, and one too long, stop the read with its file and
	// line, and a hint.
	for _, bad := range []string{`{"id":"x","kind":"subscribed"}`, `not json`, `{"id":"` + strings.Repeat("x", MaxEventSize) + `"}`} {
		os.WriteFile(seg, append(slices.Clone(data), bad+"\n"...), 0o600)
		err := s.Read(ctx, func(*Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), seg+":3: ") || !strings.Contains(err.Error(), "damaged") {
			t.Errorf("%.20s: %v", bad, err)
		}
	}
}

func TestS3Store(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "private")
	open := func() compacter {
		s, err := OpenS3Store(c, "s3://private/subscribers")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	raw := func() []byte {
		var all []byte
		filepath.WalkDir(filepath.Join(srv.Dir, "private"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				data, _ := os.ReadFile(p)
				all = append(all, data...)
			}
			return nil
		})
		return all
	}
	testStore(t, open(), open, raw)
	// After the compactions, one snapshot and no events objects are left.
	var keys []string
	for _, k := range s3test.Keys(t, c, "private", "subscribers/") {
		keys = append(keys, strings.Fields(k)[0])
	}
	if !slices.Equal(keys, []string{"subscribers/snapshots/000000000002.jsonl"}) {
		t.Errorf("after compaction the store holds %v", keys)
	}
	if _, err := OpenS3Store(c, "private/subscribers"); err == nil {
		t.Errorf("a location without s3://")
	}
}

// FuzzUnmarshal checks that the parser of the log's lines decodes every
// line as encoding/json does.
func FuzzUnmarshal(f *testing.F) {
	sub := subscribe("ana@clinic.example", t0, "clinicians", "patients")
	sub.Name = "Ana Ökafor"
	b := soft("ana@clinic.example", t0)
	for _, e := range []Event{sub, confirm(sub, t0), b} {
		data, _ := encode([]Event{e})
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte(`{"id":"x","consent":{"text":"a"},"consent":{"page":"b"},"lists":[],"bounce":{"hard":true}}`))
	f.Add([]byte(`{"ID":"x","time":"2026-03-01T12:00:00+01:00","kind":"\u0061"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		in := &interner{strs: map[string]string{}, lists: map[string][]string{}}
		var fast, slow Event
		ferr := in.unmarshal(line, &fast)
		serr := json.Unmarshal(line, &slow)
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%s: errors %v and %v", line, ferr, serr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\n%+v\n%+v", line, fast, slow)
		}
	})
}

// changing is a store whose first reads fail as a compaction makes them.
type changing struct {
	Store
	fails int
}

func (c *changing) Read(ctx context.Context, fn func(*Event) error) error {
	if c.fails > 0 {
		c.fails--
		fn(&Event{Kind: Erased, Key: Key(secret, "ana@clinic.example"), Time: t0})
		return fmt.Errorf("subscribers: x: %w", ErrChanged)
	}
	return c.Store.Read(ctx, fn)
}

// TestLoadAgain reads a log again when a compaction overtook the read,
// with nothing of the failed read left in the state.
func TestLoadAgain(t *testing.T) {
	t.Parallel()
	s, _ := OpenFileStore(t.TempDir())
	sub := subscribe("ana@clinic.example", t0, "clinicians")
	s.Append(context.Background(), sub, confirm(sub, t0))
	st, err := Load(context.Background(), &changing{s, 2})
	if err != nil || len(st.Recipients("clinicians")) != 1 {
		t.Errorf("after two failed reads: %v", err)
	}
	if _, err := Load(context.Background(), &changing{s, 3}); !errors.Is(err, ErrChanged) {
		t.Errorf("after three failed reads: %v", err)
	}
}

// TestFileStoreGroupCommit appends from many goroutines at once: the
// appends written together keep each append's events together and in
// order, and none is lost or doubled.
func TestFileStoreGroupCommit(t *testing.T) {
	t.Parallel()
	s, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	const writers = 200
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("r%03d@example.net", i)
			key := Key([]byte("a-long-enough-test-secret"), email)
			err := s.Append(ctx,
				Event{ID: key + "-1", Time: now, Kind: Imported, Key: key, Email: email, Lists: []string{"everything"}},
				Event{ID: key + "-2", Time: now, Kind: Unsubscribed, Key: key, Lists: []string{"everything"}})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var ids []string
	if err := s.Read(ctx, func(e *Event) error { ids = append(ids, e.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2*writers {
		t.Fatalf("%d events, want %d", len(ids), 2*writers)
	}
	seen := map[string]bool{}
	for i := 0; i < len(ids); i += 2 {
		a, b := ids[i], ids[i+1]
		if !strings.HasSuffix(a, "-1") || b != strings.TrimSuffix(a, "-1")+"-2" || seen[a] {
			t.Fatalf("events %d and %d: %s, %s: an append's events apart, or twice", i, i+1, a, b)
		}
		seen[a] = true
	}
}
