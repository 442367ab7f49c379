package config

// CheckConfig is the [check] table: what rounds check and the build know
// of the wider literature.
type CheckConfig struct {
	// Retractions is a Retraction Watch CSV file, relative to config.toml:
	// notes citing a paper it withdraws are labelled "Retracted".
	Retractions string `toml:"retractions"`
	// ReadingGrade is the highest Flesch-Kincaid grade of a note for
	// patients before rounds check warns.
	ReadingGrade float64 `toml:"reading_grade"`
}

// SearchConfig is the [search] table: what the site's search finds.
type SearchConfig struct {
	// Enabled builds the search index, the search page and the header's
	// search box; true unless turned off.
	Enabled bool `toml:"enabled"`
	// Wire indexes the wire's stories too; they are not curated, so
	// they are left out unless asked for.
	Wire bool `toml:"wire"`
	// Synonyms are groups of phrases that find each other ("heart
	// attack", "myocardial infarction"), added to the theme's table
	// (themes/default/search/synonyms.txt).
	Synonyms [][]string `toml:"synonyms"`
}
