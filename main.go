// Command rounds builds curated health newsletters: a web archive, feeds
// and email digests from Markdown curation notes.
//
// Usage:
//
//	rounds <command> [flags]
//
// Run "rounds help" for the commands.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"rounds/generator"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = ""

const usage = `Rounds builds curated health newsletters from Markdown curation notes.

Usage:

	rounds <command> [flags]

Commands:

	build      build the site into public/
	new        create a note or an edition from a template
	version    print the version

Run "rounds <command> --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// run executes the command in args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "build":
		return runBuild(args, stdout, stderr)
	case "new":
		return runNew(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "rounds %s\n", buildVersion())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "rounds: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlags returns a flag set for a command that prints its usage on
// --help and reports misuse with exit code 2.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rounds %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; it returns an exit code and false when the command
// should stop (after --help, or on a usage error).
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, false
	}
	if err != nil {
		return exitUsage, false
	}
	return exitOK, true
}

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("build", "build [--config F] [--out DIR] [--now T] [--drafts]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	out := fs.String("out", "", "write the site into `dir` (default: public/ beside the config)")
	nowFlag := fs.String("now", "", "build as of `time` (RFC 3339 or YYYY-MM-DD; default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	drafts := fs.Bool("drafts", false, "include draft notes and editions")
	future := fs.Bool("future", false, "include notes and editions scheduled after now")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds build: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	now, err := parseNow(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds build: %v\n", err)
		return exitUsage
	}
	start := time.Now()
	res, err := generator.Build(&generator.Options{
		Config: *config, Out: *out, Now: now, Drafts: *drafts, Future: *future,
	})
	if err != nil {
		return fail(stderr, "build", err)
	}
	fmt.Fprintf(stdout, "rounds: built %d notes, %d editions, %d files into %s in %s\n",
		res.Notes, res.Editions, res.Files, res.Out, time.Since(start).Round(time.Millisecond))
	return exitOK
}

func runNew(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("new", `new note "Title" | new edition ["Title"] [--config F]`, stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	nowFlag := fs.String("now", "", "date the new file as of `time` (default: the clock)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	kind, rest := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	if (kind != "note" && kind != "edition") || (kind == "note" && len(rest) != 1) || len(rest) > 1 {
		fmt.Fprintln(stderr, `rounds new: want "note" and a quoted title, or "edition" and an optional title`)
		fs.Usage()
		return exitUsage
	}
	now, err := parseNow(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds new: %v\n", err)
		return exitUsage
	}
	cfg, err := generator.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "new", err)
	}
	title := strings.Join(rest, " ")
	var path string
	if kind == "note" {
		path, err = generator.NewNote(cfg, title, now)
	} else {
		path, err = generator.NewEdition(cfg, title, now)
	}
	if err != nil {
		return fail(stderr, "new", err)
	}
	fmt.Fprintln(stdout, path)
	return exitOK
}

// fail prints every problem in err, one a line, and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	list := generator.AsList(err)
	if len(list) == 1 && list[0].File == "" {
		fmt.Fprintf(stderr, "rounds %s: %v\n", cmd, err)
		return exitFail
	}
	for _, e := range list {
		fmt.Fprintf(stderr, "%s\n", e)
	}
	fmt.Fprintf(stderr, "rounds %s: %d %s\n", cmd, len(list), plural(len(list), "error", "errors"))
	return exitFail
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// parseNow returns the build's present: the flag's value if set, else
// $ROUNDS_NOW, else $SOURCE_DATE_EPOCH, else the clock.
func parseNow(flagValue string) (time.Time, error) {
	v, from := flagValue, "--now"
	if v == "" {
		v, from = os.Getenv("ROUNDS_NOW"), "ROUNDS_NOW"
	}
	if v != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%s: cannot read %q as a time; use RFC 3339 (2026-11-02T09:00:00Z) or a date (2026-11-02)", from, v)
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %q is not a number of seconds", s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Now(), nil
}

// buildVersion returns the version set at link time or recorded by go build.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return "dev-" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	return "dev"
}
