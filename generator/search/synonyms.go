package search

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
)

// A Group is phrases that find each other: a query for one finds the
// documents that have any.
type Group struct {
	// Phrases are the phrases as written.
	Phrases []string
	// stems are each phrase's terms.
	stems [][]string
}

// A phrase is a synonym group's phrase, as terms.
type phrase struct {
	group int
	stems []string
}

// ParseSynonyms reads a synonym table: a group a line, its phrases
// separated by commas; "#" starts a comment. file names the table in
// errors.
func ParseSynonyms(file, text string) ([][]string, error) {
	var groups [][]string
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		s, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(s) == "" {
			continue
		}
		var g []string
		for _, p := range strings.Split(s, ",") {
			g = append(g, strings.TrimSpace(p))
		}
		groups = append(groups, g)
		if err := checkGroup(g); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
	}
	return groups, sc.Err()
}

// checkGroup reports what is wrong with a synonym group.
func checkGroup(g []string) error {
	if len(g) < 2 {
		return fmt.Errorf("synonyms: %q is a group of one phrase; a group needs two or more", strings.Join(g, ","))
	}
	for _, p := range g {
		n := 0
		Terms(p, func(string) { n++ })
		if n == 0 {
			return fmt.Errorf("synonyms: %q has no word that is searched for (it is empty, or only stop words); remove it", p)
		}
	}
	return nil
}

// Synonyms returns the groups of phrases that find each other, checked,
// with groups that share a phrase made one: a curator's table extends
// the theme's.
func Synonyms(lists ...[][]string) ([]Group, error) {
	var out []Group
	byPhrase := map[string]int{} // a phrase's terms, joined → its group
	for _, list := range lists {
		for _, g := range list {
			if err := checkGroup(g); err != nil {
				return nil, err
			}
			// The groups this one shares a phrase with become one.
			target := -1
			keys := make([]string, len(g))
			stems := make([][]string, len(g))
			for i, p := range g {
				Terms(p, func(t string) { stems[i] = append(stems[i], t) })
				keys[i] = strings.Join(stems[i], " ")
				if j, ok := byPhrase[keys[i]]; ok && (target < 0 || j < target) {
					target = j
				}
			}
			if target < 0 {
				target = len(out)
				out = append(out, Group{})
			}
			for i, p := range g {
				j, ok := byPhrase[keys[i]]
				if ok && j != target {
					// Merge group j into target.
					for _, q := range out[j].stems {
						byPhrase[strings.Join(q, " ")] = target
					}
					out[target].Phrases = append(out[target].Phrases, out[j].Phrases...)
					out[target].stems = append(out[target].stems, out[j].stems...)
					out[j] = Group{}
				}
				if ok {
					continue
				}
				byPhrase[keys[i]] = target
				out[target].Phrases = append(out[target].Phrases, p)
				out[target].stems = append(out[target].stems, stems[i])
			}
		}
	}
	// Groups merged away leave holes.
	out = slices.DeleteFunc(out, func(g Group) bool { return len(g.Phrases) == 0 })
	return out, nil
}

// phraseTable indexes the groups' phrases by their first term.
func phraseTable(groups []Group) map[string][]phrase {
	t := map[string][]phrase{}
	for i, g := range groups {
		for _, s := range g.stems {
			t[s[0]] = append(t[s[0]], phrase{i, s})
		}
	}
	return t
}
