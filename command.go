package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	project "github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/nightly"
)

// How a command of the table in main.go runs: its flags parsed, the flags
// several commands share, what it prints when it fails, and its exit code.

// shared holds what several commands take: the flags they share, each
// declared once here, and where they report.
type shared struct {
	ctx      context.Context
	out      nightly.Output
	config   string
	nowValue *string
	now      time.Time
	// dryRun and forceUnlock are --dry-run and --force-unlock, for the
	// commands that declare them.
	dryRun, forceUnlock bool
	// list is --list, the mailing list's id, for the commands that
	// declare it.
	list string
	// check, if set, vets the flags before anything runs.
	check func() error
}

// configFlag declares --config.
func (sh *shared) configFlag(fs *flag.FlagSet) {
	fs.StringVar(&sh.config, "config", "config.toml", "the newsletter's configuration `file`")
}

// nowFlag declares --now, with usage, or the usual words when "".
func (sh *shared) nowFlag(fs *flag.FlagSet, usage string) {
	sh.nowValue = fs.String("now", "", cmp.Or(usage, "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)"))
}

// dryRunFlag declares --dry-run, with what it leaves undone in usage.
func (sh *shared) dryRunFlag(fs *flag.FlagSet, usage string) {
	fs.BoolVar(&sh.dryRun, "dry-run", false, usage)
}

// listFlag declares --list, the id of a [[list]], with what it does in
// usage.
func (sh *shared) listFlag(fs *flag.FlagSet, usage string) {
	fs.StringVar(&sh.list, "list", "", usage)
}

// forceUnlockFlag declares --force-unlock, with whose lock it breaks in
// usage.
func (sh *shared) forceUnlockFlag(fs *flag.FlagSet, usage string) {
	fs.BoolVar(&sh.forceUnlock, "force-unlock", false, usage)
}

// withConfig loads the configuration once and runs fn with it.
func (sh *shared) withConfig(fn func(cfg *project.Config) error) error {
	cfg, err := project.LoadConfig(sh.config)
	if err != nil {
		return err
	}
	return fn(cfg)
}

// A usageError is a command line that cannot be run; with help, the
// command's usage follows the message.
type usageError struct {
	msg  string
	help bool
}

func (e *usageError) Error() string { return e.msg }

// errReported is a failure already reported.
var errReported = errors.New("reported")

// run executes the command in args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	name, args := args[0], args[1:]
	switch name {
	case "version", "-version", "--version":
		fmt.Fprint(stdout, versionText())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		fmt.Fprintf(stderr, "rounds: unknown command %q\n\n%s", name, usage())
		return exitUsage
	}
	c := commands[i]
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	// The flag package prints what is wrong with a flag; the usage is
	// printed here, once: on stdout for --help, on stderr after an error.
	fs.Usage = func() {}
	printUsage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: rounds %s\n\nFlags:\n", c.synopsis)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sh := &shared{ctx: ctx, out: nightly.Output{Out: stdout, Err: stderr}}
	runFn := c.flags(fs, sh)
	// Flags may come before, between and after the positional arguments
	// of an interspersed command.
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return exitOK
		}
		if err != nil {
			printUsage(stderr)
			return exitUsage
		}
		if fs.NArg() == 0 || !c.interspersed {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	err := func() error {
		if sh.check != nil {
			if err := sh.check(); err != nil {
				return err
			}
		}
		if !c.interspersed && fs.NArg() > 0 {
			return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0)), true}
		}
		if sh.nowValue != nil {
			var err error
			if sh.now, err = nightly.Now(*sh.nowValue); err != nil {
				return &usageError{err.Error(), false}
			}
		}
		return runFn(pos)
	}()
	var ue *usageError
	var nu *nightly.UsageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "rounds %s: %s\n", c.name, ue.msg)
		if ue.help {
			printUsage(stderr)
		}
		return exitUsage
	case errors.As(err, &nu):
		fmt.Fprintf(stderr, "rounds %s: %s\n", c.name, nu.Msg)
		return exitUsage
	case err == errReported, err == nightly.ErrFindings:
		return exitFail
	}
	return fail(stderr, c.name, err)
}

// usage is what rounds help prints.
func usage() string {
	var b strings.Builder
	b.WriteString("Rounds builds curated health newsletters from Markdown curation notes.\n\nUsage:\n\n\trounds <command> [flags]\n\nCommands:\n\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "\t%-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&b, "\t%-10s %s\n\nRun \"rounds <command> --help\" for a command's flags.\n", "version", "print the version")
	return b.String()
}

// fail prints every problem in err, one a line, and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	list := project.AsList(err)
	if len(list) == 1 && list[0].File == "" {
		fmt.Fprintf(stderr, "rounds %s: %v\n", cmd, err)
		return exitFail
	}
	for _, e := range list {
		fmt.Fprintf(stderr, "%s\n", e)
	}
	noun := "errors"
	if len(list) == 1 {
		noun = "error"
	}
	fmt.Fprintf(stderr, "rounds %s: %d %s\n", cmd, len(list), noun)
	return exitFail
}

// first returns the first of args, or "".
func first(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return args[0]
}

// versionText is what rounds version prints: the module's version, the
// VCS revision the binary was built from, when it was committed and
// whether the tree had changes, and the Go that built it.
func versionText() string {
	v, rev, when, modified := version, "", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if m := info.Main.Version; v == "" && m != "" && m != "(devel)" {
			v = m
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value[:min(12, len(s.Value))]
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rounds %s\n", cmp.Or(v, "(devel)"))
	if rev != "" {
		fmt.Fprintf(&b, "revision %s", rev)
		if when != "" {
			fmt.Fprintf(&b, ", committed %s", when)
		}
		if modified {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString("\n")
	} else if v == "" {
		b.WriteString("revision unknown: built without version control information (go run, go test, or -buildvcs=false)\n")
	}
	fmt.Fprintf(&b, "%s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}
