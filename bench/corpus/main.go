// Command corpus writes a synthetic Rounds newsletter for benchmarks.
//
// Usage:
//
//	go run ./bench/corpus -n 10000 -out DIR -theme themes/default
//
// DIR must be missing or empty. The output is the same, byte for byte,
// on every run with the same -n.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rounds-health/rounds/generator/corpus"
)

func main() {
	n := flag.Int("n", 10000, "number of notes")
	out := flag.String("out", "", "write the corpus into `dir` (required; must be missing or empty)")
	theme := flag.String("theme", "themes/default", "the theme `folder` the corpus copies as its themes/default")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: corpus [-n N] -out DIR [-theme DIR]")
		flag.PrintDefaults()
		os.Exit(2)
	}
	if err := corpus.Write(*out, *n, *theme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
