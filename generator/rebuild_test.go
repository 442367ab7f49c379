package generator

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/output"
)

// TestRebuildsMatchCleanBuild edits a site at random and rebuilds it over
// its previous output after each edit. Every rebuild, which reuses the
// previous build's files, must equal a clean build of the same content,
// byte for byte, stale files gone.
func TestRebuildsMatchCleanBuild(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	rng := rand.New(rand.NewPCG(7, 11))
	write := func(p, data string) {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(p)), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	topics := []string{"vaccines", "cardiology", "drug-safety", "nutrition"}
	edits := []func(i int){
		func(i int) { // a new note
			write(fmt.Sprintf("content/notes/n%d.md", i), testproject.Note(fmt.Sprintf("Note %d", i), fmt.Sprintf("2026-10-%02dT08:00:00Z", 1+i%28), fmt.Sprintf(`topics = [%q]`, topics[rng.IntN(len(topics))])))
		},
		func(i int) { // an edited note body
			write("content/notes/alpha.md", strings.Replace(siteFiles()["content/notes/alpha.md"], "Body of", fmt.Sprintf("Edit %d of", i), 1))
		},
		func(i int) { // a deleted note, if there is one
			notes, _ := filepath.Glob(filepath.Join(dir, "content/notes/n*.md"))
			if len(notes) > 0 {
				os.Remove(notes[rng.IntN(len(notes))])
			}
		},
		func(i int) { // a config change that touches every page
			write("config.toml", strings.Replace(testproject.Config, "Test Rounds", fmt.Sprintf("Test Rounds %d", i), 1))
		},
		func(i int) { // a topic that empties, then returns
			write("content/notes/gamma.md", testproject.Note("Gamma alert", "2026-11-10T08:00:00Z", fmt.Sprintf(`topics = [%q]`, topics[i%len(topics)]), `audience = ["clinicians"]`))
		},
	}
	for i := range 12 {
		edits[rng.IntN(len(edits))](i)
		mustBuild(t, dir)
		fresh := filepath.Join(dir, "fresh", fmt.Sprint(i), "public")
		mustBuild(t, dir, func(o *Options) { o.Out = fresh })
		sameTree(t, tree(t, fresh), tree(t, filepath.Join(dir, "public")))
		if t.Failed() {
			t.Fatalf("rebuild %d differs from a clean build", i)
		}
	}
}

// TestRebuildKeepsUnchangedFiles checks that a rebuild does not write
// files whose bytes did not change.
func TestRebuildKeepsUnchangedFiles(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	page := filepath.Join(dir, "public", "notes", "beta", "index.html")
	mustBuild(t, dir)
	first, err := os.Stat(page)
	if err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir) // a new tree; the first is kept for reuse
	second, _ := os.Stat(page)
	if os.SameFile(first, second) {
		t.Fatal("the second build should have written a new tree")
	}
	mustBuild(t, dir) // reuses the first tree: nothing changed
	third, _ := os.Stat(page)
	if !os.SameFile(first, third) || !third.ModTime().Equal(first.ModTime()) {
		t.Error("an unchanged page was written again")
	}
}

// TestInterruptedBuildRecovers leaves a work folder as a crashed build
// would, without its manifest and with a half-written file, and checks
// that the next build starts it afresh.
func TestInterruptedBuildRecovers(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	mustBuild(t, dir)
	work := filepath.Join(dir, ".public.work")
	if err := os.Remove(filepath.Join(work, output.ManifestFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "notes", "alpha", "index.html"), []byte("<p>half"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "junk.html"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir)
	fresh := filepath.Join(dir, "fresh", "public")
	mustBuild(t, dir, func(o *Options) { o.Out = fresh })
	sameTree(t, tree(t, fresh), tree(t, filepath.Join(dir, "public")))
}
