package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The files a build reads (content, theme) are the curator's, but a
// build may run on a copy of a project that someone else wrote, and what
// it reads, it may publish. So it reads only regular files, never waits
// on a named pipe or a device, caps the size of a content file, and does
// not follow a link out of the project unless [build] follow_symlinks
// says so.

// errLink is ReadFile's error for a path that is a symbolic link, which
// the caller resolves and vets.
var errLink = errors.New("a symbolic link")

// A readError is why a file of the project was refused, and how to fix it.
type readError struct{ msg, fix string }

func (e *readError) Error() string { return e.msg }

// notRegular is the error for a file of the type mode that is not a
// regular file.
func notRegular(mode fs.FileMode) error {
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a folder, not a file"
	case mode&fs.ModeNamedPipe != 0:
		what = "a named pipe (FIFO), not a file"
	case mode&fs.ModeDevice != 0:
		what = "a device, not a file"
	case mode&fs.ModeSocket != 0:
		what = "a socket, not a file"
	}
	return &readError{"is " + what, "put only files in content/ and themes/; move it elsewhere"}
}

// tooLarge is the error for a content file of size bytes, over max.
func tooLarge(size, max int64) error {
	return &readError{fmt.Sprintf("is %d bytes, more than [build] max_note_bytes (%d)", size, max),
		"split it into smaller notes, or raise max_note_bytes in config.toml"}
}

// Problem returns err, from reading the project's file rel, as an Error
// naming the file and saying how to fix it.
func Problem(rel string, err error) *Error {
	var re *readError
	switch {
	case errors.As(err, &re):
		return Errorf(rel, 0, "", re.fix, "%s", re.msg)
	case errors.Is(err, fs.ErrPermission):
		return Errorf(rel, 0, "", "check the file's permissions", "%v", err)
	case errors.Is(err, fs.ErrNotExist):
		return Errorf(rel, 0, "", "the file went away while it was read; build again", "%v", err)
	}
	return Errorf(rel, 0, "", "", "%v", err)
}

// RealPath returns where the file or folder at abs really is, after
// links, or an error when that is outside the project and [build]
// follow_symlinks does not allow it.
func (c *Config) RealPath(abs string) (string, error) {
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", &readError{"is a link to a file that does not exist", "fix the link, or remove it"}
		}
		return "", err
	}
	if !c.Build.FollowSymlinks && !within(c.realDir, real) {
		return "", &readError{fmt.Sprintf("is a link to %s, outside the project", real),
			"copy it into the project, or set [build] follow_symlinks = true in config.toml to read and publish what links lead to"}
	}
	return real, nil
}

// ReadSource reads a file of the project: a regular file of at most max
// bytes (0: any size), through a link only to where realPath allows.
func (c *Config) ReadSource(abs string, max int64) ([]byte, time.Time, error) {
	data, mod, err := ReadFile(abs, max)
	if !errors.Is(err, errLink) {
		return data, mod, err
	}
	real, err := c.RealPath(abs)
	if err != nil {
		return nil, time.Time{}, err
	}
	return ReadFile(real, max)
}

// WalkFiles calls fn for every regular file under dir, a folder of the
// project, with its slash path relative to dir and the path it is read
// from. Links are followed where realPath allows, into folders too. A
// missing dir has no files.
func (c *Config) WalkFiles(dir string, fn func(rel, abs string) error) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	real, err := c.RealPath(dir)
	if err != nil {
		return Problem(c.Rel(dir), err)
	}
	return c.walk(dir, real, "", fn, 0)
}

// walk walks the folder real, which the project names at dir, for
// walkFiles; prefix is dir's path under walkFiles' dir.
func (c *Config) walk(dir, real, prefix string, fn func(rel, abs string) error, depth int) error {
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		r, _ := filepath.Rel(real, p)
		rel := prefix + filepath.ToSlash(r)
		named := filepath.Join(dir, r) // as the project names it, for errors
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := c.RealPath(p)
			if err != nil {
				return Problem(c.Rel(named), err)
			}
			st, err := os.Stat(target)
			if err != nil {
				return Problem(c.Rel(named), err)
			}
			if st.IsDir() {
				if depth >= 8 {
					return Problem(c.Rel(named), &readError{"is a link in a chain of more than 8 folders", "remove the loop of links"})
				}
				return c.walk(named, target, rel+"/", fn, depth+1)
			}
			if !st.Mode().IsRegular() {
				return Problem(c.Rel(named), notRegular(st.Mode()))
			}
			return fn(rel, target)
		case !d.Type().IsRegular():
			return Problem(c.Rel(named), notRegular(d.Type()))
		}
		return fn(rel, p)
	})
}
