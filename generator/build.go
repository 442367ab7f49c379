package generator

import (
	"github.com/rounds-health/rounds/generator/check"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// Options control a build.
type Options struct {
	// Options say what the site shows (its present; drafts, scheduled
	// and expired content) and how its content loads.
	site.Options
	// Out is the folder the site is written to; empty means "public" beside
	// the configuration file.
	Out string
	// Theme, if set, is the project's theme already loaded (by Check, in
	// rounds nightly); else Build loads it.
	Theme *theme.Theme
	// Guard holds the subscribers' addresses: a build that would write
	// one into any output file, or its name, fails. rounds build reads
	// them from where rounds send does, a file or a private bucket.
	Guard *leak.Guard
	// Writing, if set, is told how many of the site's files are written
	// as each is; the embedded site.Options' Reading is told of the
	// content files read.
	Writing func(done, total int)
}

// Render returns the options that render and write the site.
func (o *Options) Render() *render.Options {
	return &render.Options{Out: o.Out, Workers: o.Workers, Guard: o.Guard, Writing: o.Writing}
}

// Build loads the content and theme of the project cfg describes and
// writes the site to the output folder. A site that is not a preview is
// not built when its content holds what may identify a patient.
// It renders into a temporary folder beside the output and replaces the
// output only when every file was written, so a failed build leaves the
// previous site untouched. All problems are returned together as an
// ErrorList.
func Build(cfg *config.Config, opts *Options) (*render.Result, error) {
	// The theme loads while the content does, unless it is loaded.
	th, themeErr := opts.Theme, error(nil)
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		if th == nil {
			th, themeErr = theme.Load(cfg)
		}
	}()
	s, err := site.Load(cfg, &opts.Options)
	<-loaded
	if err != nil || themeErr != nil {
		return nil, append(config.AsList(err), config.AsList(themeErr)...).Err()
	}
	if !s.Preview && len(s.PHI) > 0 {
		// Only a preview (drafts, scheduled or expired content shown) is
		// written with what may identify a patient: it warns of each, on
		// the console and on the page. Its manifest records them, and
		// publishing refuses it.
		return nil, check.PHIError(s.PHI, "nothing was built; a preview (--drafts) is built with warnings")
	}
	// The site is Build's own: it lets each note's body go as soon as
	// what shows it is made.
	ro := opts.Render()
	ro.Consume = true
	return render.Write(s, th, ro)
}

// Check loads the configuration's content and theme as a build would,
// and returns the site and the theme, or every problem found, writing
// nothing.
func Check(cfg *config.Config, opts *site.Options) (*site.Site, *theme.Theme, error) {
	s, err := site.Load(cfg, opts)
	th, themeErr := theme.Load(cfg)
	if err != nil || themeErr != nil {
		return nil, nil, append(config.AsList(err), config.AsList(themeErr)...).Err()
	}
	return s, th, nil
}
