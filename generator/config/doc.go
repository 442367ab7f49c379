// Package config reads a newsletter's project: config.toml, with its
// types, defaults and checks, and the project's files within their
// bounds.
//
// LoadConfig reads config.toml once; everything after it (the content,
// the wire, the theme, the digests, publishing) takes the loaded *Config.
// A problem in any file of the project is an *Error that names the file,
// the line and the field, and says how to fix it; a check reports every
// problem it finds as an ErrorList. Content and theme files are read
// through the Config (ReadSource, WalkFiles): regular files only, at most
// [build] max_note_bytes, and no link out of the project unless
// [build] follow_symlinks is set.
package config
