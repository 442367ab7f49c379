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
	"cmp"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	project "github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/nightly"
	"github.com/rounds-health/rounds/generator/publish"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = ""

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// A command is one of rounds' commands. Its flags function declares the
// command's flags and returns what runs it with the positional arguments.
type command struct {
	name, summary, synopsis string
	// interspersed commands take positional arguments among their flags;
	// the others take none.
	interspersed bool
	flags        func(fs *flag.FlagSet, sh *shared) func(args []string) error
}

// commands are rounds' commands, in the order help lists them.
var commands = []command{
	{"build", "build the site into public/", "build [--config F] [--out DIR] [--now T] [--drafts] [--future] [--strict]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "build as of `time` (RFC 3339 or YYYY-MM-DD; default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
			var o nightly.BuildOptions
			fs.StringVar(&o.Out, "out", "", "write the site into `dir` (default: public/ beside the config)")
			fs.BoolVar(&o.Drafts, "drafts", false, "include draft notes and editions")
			fs.Bool("strict", false, "no effect: a build always refuses what may identify a patient, unless it is a preview (--drafts, --future)")
			fs.BoolVar(&o.Future, "future", false, "include notes and editions scheduled after now")
			return func([]string) error {
				return sh.withConfig(func(cfg *project.Config) error {
					o.Now = sh.now
					return nightly.Build(sh.ctx, cfg, o, sh.out)
				})
			}
		}},
	{"digest", "render an edition as email, for review", "digest [EDITION] [--list L] [--out DIR] [--now T] [--config F]", true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			sh.listFlag(fs, "render only the list `id` (default: every list)")
			out := fs.String("out", "", "write the files into `dir` (default: [email] out, .cache/digest/EDITION)")
			return func(args []string) error {
				if len(args) > 1 {
					return &usageError{fmt.Sprintf("unexpected argument %q", args[1]), true}
				}
				return sh.withConfig(func(cfg *project.Config) error {
					return nightly.Digest(cfg, sh.now, first(args), sh.list, *out, sh.out)
				})
			}
		}},
	{"send", "send an edition's digest to a list's subscribers", "send [EDITION] --list L [--dry-run] [--resend-unknown] [--force-unlock] [--now T] [--config F]", true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			var o nightly.SendOptions
			sh.listFlag(fs, "send to the subscribers of the list `id` (required)")
			sh.dryRunFlag(fs, "print what would be sent, and send nothing")
			fs.BoolVar(&o.ResendUnknown, "resend-unknown", false, "send again, with the same Message-ID, to the subscribers whose delivery is unknown (a send cut off after the final dot)")
			sh.forceUnlockFlag(fs, "first break the lock of the send of this edition to this list (in a bucket), saying whose it was")
			return func(args []string) error {
				if len(args) > 1 || sh.list == "" {
					return &usageError{"want an optional edition and --list ID", true}
				}
				return sh.withConfig(func(cfg *project.Config) error {
					o.DryRun = sh.dryRun
					return nightly.SendEdition(sh.ctx, cfg, sh.now, first(args), sh.list, sh.forceUnlock, o, sh.out)
				})
			}
		}},
	{"publish", "upload the built site to S3: only what changed", "publish [--bucket B] [--prefix P] [--endpoint URL] [--path-style] [--dry-run] [--confirm] [--force-unlock] [--config F] [--dir DIR]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			var o publish.Options
			dir := fs.String("dir", "", "publish the build in `dir` (default: public/ beside the config)")
			bucket := fs.String("bucket", "", "the `bucket` (default: [publish] bucket)")
			prefix := fs.String("prefix", "", "the folder of the bucket, such as `site/` (default: [publish] prefix)")
			endpoint := fs.String("endpoint", "", "an S3-compatible store's `URL` (default: [publish] endpoint or the SDK's)")
			pathStyle := fs.Bool("path-style", false, "address the bucket in the path, as most S3-compatible stores need")
			sh.dryRunFlag(fs, "print the plan and change nothing")
			fs.BoolVar(&o.Confirm, "confirm", false, "delete even more objects than max_deletes")
			sh.forceUnlockFlag(fs, "first break the bucket's publish lock, whoever holds it, saying whose it was (for a publish that died on another machine)")
			return func([]string) error {
				return sh.withConfig(func(cfg *project.Config) error {
					o.DryRun, o.ForceUnlock = sh.dryRun, sh.forceUnlock
					// Flags given override config.toml.
					p := &cfg.Publish
					fs.Visit(func(f *flag.Flag) {
						switch f.Name {
						case "bucket":
							p.Bucket = *bucket
						case "prefix":
							p.Prefix = *prefix
						case "endpoint":
							p.Endpoint = *endpoint
						case "path-style":
							p.PathStyle = *pathStyle
						}
					})
					return nightly.PublishSite(sh.ctx, cfg, *dir, o, sh.out)
				})
			}
		}},
	{"nightly", "fetch, record bounces, check, build, publish and send, as CI runs it", "nightly [--config F] [--now T] [--dry-run] [--skip STAGES]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			var o nightly.Options
			sh.dryRunFlag(fs, "plan the publish and the sends, and change nothing remote")
			skip := fs.String("skip", "", "comma-separated `stages` to skip: fetch, bounces, check, links, build, publish, send")
			return func([]string) error {
				o.Skip = map[string]bool{}
				for _, st := range strings.Split(*skip, ",") {
					if st = strings.TrimSpace(st); st != "" {
						if !slices.Contains(nightly.Stages, st) {
							return &usageError{fmt.Sprintf("--skip: unknown stage %q", st), false}
						}
						o.Skip[st] = true
					}
				}
				return sh.withConfig(func(cfg *project.Config) error {
					o.Now, o.DryRun = sh.now, sh.dryRun
					stage, err := nightly.Run(sh.ctx, cfg, o, sh.out.Out, sh.out.Err)
					if err != nil {
						fail(sh.out.Err, "nightly", err)
						if stage != "" {
							fmt.Fprintf(sh.out.Err, "rounds nightly: stopped at %s; the later stages did not run\n", stage)
						}
						return errReported
					}
					fmt.Fprintln(sh.out.Out, "rounds nightly: done")
					return nil
				})
			}
		}},
	{"serve", "preview the site, with drafts, rebuilt and reloaded on save", "serve [--config F] [--bind ADDR] [--port N]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			bind := fs.String("bind", "127.0.0.1", "listen on `address` (0.0.0.0 opens the preview to the network)")
			port := fs.Int("port", 1313, "listen on `port`")
			return func([]string) error {
				return nightly.Serve(sh.ctx, sh.config, net.JoinHostPort(*bind, strconv.Itoa(*port)), sh.out)
			}
		}},
	{"check", "look for patient identifiers, overdue reviews, missing pages, broken links", "check [--config F] [--format text|json] [--grade N] [--links] [--now T]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			var o nightly.CheckOptions
			format := fs.String("format", "text", "print findings as `text` or json (one object a line)")
			fs.Float64Var(&o.Grade, "grade", 0, "the highest reading `grade` for a note for patients (default: [check] reading_grade, 8)")
			fs.BoolVar(&o.Links, "links", false, "also check the links to other sites (sources, papers, links in the text), a host at a time; results are kept a week in .cache/links.json")
			sh.check = func() error {
				if fs.NArg() > 0 || (*format != "text" && *format != "json") {
					return &usageError{"want --format text or json, and no arguments", true}
				}
				return nil
			}
			return func([]string) error {
				return sh.withConfig(func(cfg *project.Config) error {
					o.Now, o.JSON = sh.now, *format == "json"
					return nightly.Check(sh.ctx, cfg, o, sh.out)
				})
			}
		}},
	{"fetch", "fetch the sources' feeds into the wire's cache", "fetch [--config F] [--force] [SOURCE-ID...]", true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			force := fs.Bool("force", false, "also fetch the sources that are backing off after failures")
			return func(only []string) error {
				return sh.withConfig(func(cfg *project.Config) error { return nightly.Fetch(sh.ctx, cfg, only, *force, sh.out) })
			}
		}},
	{"inbox", "list the wire items no note covers yet", "inbox [--config F] [--since DATE] [--topic T] [--json] [--now T]", false,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			var o nightly.InboxOptions
			since := fs.String("since", "", "list items dated on or after `date` (default: the wire's days back from now)")
			fs.StringVar(&o.Topic, "topic", "", "list only items from the sources of `topic`")
			fs.BoolVar(&o.JSON, "json", false, "print JSON, one object per item")
			return func([]string) error {
				return sh.withConfig(func(cfg *project.Config) error {
					if *since != "" {
						t, err := nightly.Now(*since)
						if err != nil {
							return &usageError{"--since: " + err.Error(), false}
						}
						o.Since = t
					}
					o.Now = sh.now
					return nightly.Inbox(cfg, o, sh.out)
				})
			}
		}},
	{"new", "create a note or an edition from a template", `new note "Title" | new note --from ID | new edition ["Title"] [--now T] [--config F]`, true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "date the new file as of `time` (default: the clock)")
			from := fs.String("from", "", "fill the new note in from the wire item `id` (as rounds inbox prints it)")
			return func(args []string) error {
				kind, rest := first(args), args[min(1, len(args)):]
				wantTitle := 1
				if *from != "" {
					wantTitle = 0
				}
				if (kind != "note" && kind != "edition") || (kind == "note" && len(rest) != wantTitle) || len(rest) > 1 || (kind == "edition" && *from != "") {
					return &usageError{`want "note" and a quoted title, "note --from ID", or "edition" and an optional title`, true}
				}
				return sh.withConfig(func(cfg *project.Config) error {
					return nightly.New(cfg, kind, strings.Join(rest, " "), *from, sh.now, sh.out)
				})
			}
		}},
	{"sources", "list the sources, or import and export them as OPML", "sources [list | import FILE.opml | export] [--config F]", true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			return func(args []string) error {
				sub, rest := cmp.Or(first(args), "list"), args[min(1, len(args)):]
				if (sub == "import") != (len(rest) == 1) || len(rest) > 1 || (sub != "list" && sub != "import" && sub != "export") {
					return &usageError{"want list, import FILE.opml or export", true}
				}
				return sh.withConfig(func(cfg *project.Config) error { return nightly.Sources(cfg, sub, first(rest), sh.out) })
			}
		}},
	{"subscribers", "the subscribers: list, add, remove, import, export, count; record bounces; serve their links", "subscribers [list | add EMAIL... | remove EMAIL... | import FILE | export | stats | bounces | serve] [--list IDS] [--unmasked] [--erase] [--format F] [--bind ADDR] [--client-ip-header H] [--now T] [--config F]", true,
		func(fs *flag.FlagSet, sh *shared) func([]string) error {
			sh.configFlag(fs)
			sh.nowFlag(fs, "")
			sh.listFlag(fs, "the lists `ids`, comma-separated: what add subscribes to, remove unsubscribes from (default: every list), list shows, import fills when the file names none")
			var o nightly.SubscribersOptions
			fs.BoolVar(&o.Unmasked, "unmasked", false, "print addresses whole, not masked")
			fs.BoolVar(&o.Erase, "erase", false, "with remove: forget the addresses (GDPR erasure), keeping only a keyed hash so that they are never mailed again")
			fs.StringVar(&o.Format, "format", "", "with import: the file's `kind`, rounds, mailchimp, buttondown or listmonk (default: told from its header)")
			fs.StringVar(&o.Bind, "bind", "127.0.0.1:8081", "with serve: listen on `address` (behind a TLS proxy)")
			fs.StringVar(&o.ClientIPHeader, "client-ip-header", "", "with serve behind a proxy: the `header` the proxy sets to the client's address, such as X-Forwarded-For (its last address counts)")
			return func(args []string) error {
				sub, rest := cmp.Or(first(args), "list"), args[min(1, len(args)):]
				switch {
				case sub == "add" || sub == "remove":
					if len(rest) == 0 {
						return &usageError{"want " + sub + " and one or more addresses", true}
					}
				case sub == "import":
					if len(rest) != 1 {
						return &usageError{"want import and one CSV file", true}
					}
				case sub == "list" || sub == "export" || sub == "stats" || sub == "bounces" || sub == "serve":
					if len(rest) > 0 {
						return &usageError{fmt.Sprintf("unexpected argument %q", rest[0]), true}
					}
				default:
					return &usageError{"want list, add, remove, import, export, stats, bounces or serve", true}
				}
				if o.Erase && sub != "remove" {
					return &usageError{"--erase goes with remove", true}
				}
				if sh.list != "" {
					o.Lists = strings.Split(sh.list, ",")
				}
				return sh.withConfig(func(cfg *project.Config) error {
					o.Now = sh.now
					if sub == "bounces" {
						// Reads the bounce mailbox of [subscribers.imap] into the log.
						return nightly.SubscriberBounces(sh.ctx, cfg, o.Now, sh.out)
					}
					return nightly.Subscribers(sh.ctx, cfg, sub, rest, o, sh.out)
				})
			}
		}},
}

func main() {
	tuneGC()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGC is the collector's GOGC unless the environment sets one. A
// build's heap is mostly what it holds until the end (the notes, their
// cards, the search index), so the default of 100, which lets the heap
// grow to twice what is live before a collection, mostly adds to the
// peak: at 70 the peak of a 45,000-note build falls by a seventh, in the
// same time, as the kernel hands the process fewer fresh pages for the
// collector's extra work (see README, Speed).
const defaultGC = 70

// tuneGC sets the collector to defaultGC, unless GOGC is set, which the
// runtime has read.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGC)
	}
}
