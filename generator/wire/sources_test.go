package wire_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/wire"
)

// importInto imports the OPML opml into a new project that follows no
// source yet and returns the project's configuration, read afresh.
func importInto(t *testing.T, opml []byte) *config.Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(file, []byte(testproject.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ImportOPML(cfg, bytes.NewReader(opml)); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// export is what rounds sources export prints for cfg.
func export(t *testing.T, cfg *config.Config) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := feeds.WriteOPML(&b, cfg.Title+": sources", wire.Subscriptions(cfg)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// describe is a source as the round trip must keep it.
func describe(s *config.SourceConfig) string {
	return fmt.Sprintf("%s %q %s site=%s kind=%s topics=%v", s.ID, s.Name, s.URL, s.Site, s.Kind, s.Topics)
}

// TestOPMLRoundTrip imports OPML files as feed readers write them, exports
// the sources, and imports the export into a new project: the same
// sources come back with the same ids, and a second export is the first
// byte for byte. An export of Rounds keeps the ids it carries.
func TestOPMLRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file string
		want []string // the sources the first import makes
	}{
		{"feedly.opml", []string{
			`the-bmj "The BMJ" https://www.bmj.com/rss/recent.xml site=https://www.bmj.com kind=other topics=[journals]`,
			`nejm-this-week-s-issue "NEJM -- This Week's Issue" https://www.nejm.org/action/showFeed?jc=nejm&type=etoc&feed=rss site=https://www.nejm.org/toc/nejm/medical-journal kind=other topics=[journals]`,
			`the-lancet "The Lancet" http://www.thelancet.com/rssfeed/lancet_current.xml site=https://www.thelancet.com kind=other topics=[journals]`,
			`who-news "WHO news" https://www.who.int/rss-feeds/news-english.xml site=https://www.who.int/news kind=other topics=[public-health]`,
			`mmwr "MMWR" https://tools.cdc.gov/api/v2/resources/media/342778.rss site=https://www.cdc.gov/mmwr/index.html kind=other topics=[public-health]`,
			`eurosurveillance "Eurosurveillance" https://www.eurosurveillance.org/rss/content/eurosurveillance/latestarticles?fmt=rss site=https://www.eurosurveillance.org kind=other topics=[]`,
		}},
		{"thunderbird.opml", []string{
			`fda-press-releases "FDA Press Releases" https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml site=https://www.fda.gov kind=other topics=[regulators-agencies]`,
			`european-medicines-agency-news "European Medicines Agency: news" https://www.ema.europa.eu/en/news.xml site=https://www.ema.europa.eu/en/news kind=other topics=[regulators-agencies]`,
			`drug-safety-update "Drug Safety Update" https://www.gov.uk/drug-safety-update.atom site=https://www.gov.uk/drug-safety-update kind=other topics=[regulators-agencies uk]`,
			`nhs-feed-xml "NHS_feed.xml" https://www.england.nhs.uk/feed/ site= kind=other topics=[regulators-agencies uk]`,
			`pubmed-statins-and-myopathy "PubMed: statins AND myopathy" https://pubmed.ncbi.nlm.nih.gov/rss/search/1xYzAbC9dEf/?limit=15&utm_campaign=pubmed-2&fc=20251202074116 site=https://pubmed.ncbi.nlm.nih.gov/ kind=other topics=[]`,
		}},
		{"latin1.opml", []string{
			`sante-publique-france-actualites "Santé publique France : actualités" https://www.santepubliquefrance.fr/rss/actualites.xml site=https://www.santepubliquefrance.fr/ kind=other topics=[sante-publique]`,
			`haute-autorite-de-sante "Haute Autorité de santé" https://www.has-sante.fr/feeds/actualites.xml site=https://www.has-sante.fr/ kind=other topics=[sante-publique]`,
			`medrxiv-infectious-diseases-except-hiv-aids "medRxiv: Infectious Diseases (except HIV/AIDS)" https://connect.medrxiv.org/relate/feed/181 site=https://www.medrxiv.org/ kind=other topics=[medecine-preprints]`,
		}},
		{"rounds.opml", []string{
			`tj "Test Journal" https://journal.example/rss.xml site=https://journal.example/ kind=journal topics=[cardiology vaccines]`,
			`who "WHO news" https://www.who.int/rss-feeds/news-english.xml site= kind=agency topics=[vaccines]`,
			`medrxiv-id "medRxiv: infectious diseases" https://connect.medrxiv.org/relate/feed/181 site= kind=preprint topics=[]`,
			`mis-spelt-id "Mis-spelt id" https://c.example/feed site= kind=other topics=[]`,
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			opml, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			first := importInto(t, opml)
			var got []string
			for _, s := range first.Sources {
				got = append(got, describe(s))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("imported:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}

			out := export(t, first)
			second := importInto(t, out)
			var again []string
			for _, s := range second.Sources {
				again = append(again, describe(s))
			}
			if !slices.Equal(again, got) {
				t.Errorf("exported and imported again:\n%s\nwant:\n%s\nthe export:\n%s", strings.Join(again, "\n"), strings.Join(got, "\n"), out)
			}
			if out2 := export(t, second); !bytes.Equal(out2, out) {
				t.Errorf("the second export differs from the first:\n%s\nthe first:\n%s", out2, out)
			}
		})
	}
}

// TestOPMLKeepsIDs checks the round trip of sources whose ids are not
// the ones their names make, as a curator writes them: the ids survive,
// so the sources keep their caches and their items keep their IDs, and an
// import leaves a carried id that another source has for one of its own.
func TestOPMLKeepsIDs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "config.toml")
	os.WriteFile(file, []byte(testproject.Config+`
[[source]]
id = "tj"
name = "Test Journal"
url = "https://journal.example/rss.xml"
kind = "journal"
topics = ["cardiology"]

[[source]]
id = "nhs"
name = "NHS_feed.xml"
url = "https://www.england.nhs.uk/feed/"
`), 0o644)
	cfg, err := config.LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	out := export(t, cfg)
	if !bytes.Contains(out, []byte(`roundsId="tj"`)) {
		t.Errorf("the export carries no id:\n%s", out)
	}
	back := importInto(t, out)
	if len(back.Sources) != 2 || back.Sources[0].ID != "tj" || back.Sources[1].ID != "nhs" {
		t.Fatalf("ids after the round trip: %v", ids(back))
	}

	// Into a project that already has a source "tj", at another URL: the
	// imported one gets an id of its own, made from its name.
	clash := t.TempDir()
	os.WriteFile(filepath.Join(clash, "config.toml"), []byte(testproject.Config+`
[[source]]
id = "tj"
name = "Tropical Journal"
url = "https://tropical.example/rss.xml"
`), 0o644)
	cfg, err = config.LoadConfig(filepath.Join(clash, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wire.ImportOPML(cfg, bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	cfg, err = config.LoadConfig(filepath.Join(clash, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ids(cfg), " "); got != "tj test-journal nhs" {
		t.Errorf("ids after importing into a project with its own tj: %s", got)
	}
}

func ids(cfg *config.Config) []string {
	var ids []string
	for _, s := range cfg.Sources {
		ids = append(ids, s.ID)
	}
	return ids
}
