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
