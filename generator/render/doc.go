// Package render turns a site (package site) into its output files:
// pages through the theme's layouts, with their JSON-LD; RSS, Atom and
// JSON feeds of every list; the wire's pages; the sitemap and robots.txt;
// and the theme's assets.
//
// Every file is planned with the notes it shows, so that Files, for
// rounds serve, re-renders only what an edit touches. Write hands the
// plan to package output, which renders the files on every CPU and
// swaps them into the output folder in one step.
package render
