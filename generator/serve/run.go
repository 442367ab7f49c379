package serve

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Run builds the site of the configuration file config, serves it on addr
// and rebuilds it on every change until ctx is done, saying what it does
// on stdout and what fails on stderr.
func Run(ctx context.Context, config, addr string, stdout, stderr io.Writer) error {
	return (&Server{Config: config}).Run(ctx, addr, stdout, stderr)
}

// Run builds the site, serves it on addr and rebuilds it on every change
// until ctx is done, saying what it does on stdout and what fails on
// stderr.
func (srv *Server) Run(ctx context.Context, addr string, stdout, stderr io.Writer) error {
	srv.Rebuilt = func(took time.Duration, incremental bool, err error) {
		kind := "full"
		if incremental {
			kind = "incremental"
		}
		if err != nil {
			fmt.Fprintf(stderr, "rounds serve: rebuild failed (the last good site is served):\n%v\n", err)
			return
		}
		fmt.Fprintf(stdout, "rounds serve: rebuilt (%s) in %s\n", kind, took.Round(time.Millisecond))
		if n := len(srv.site.PHI); n > 0 {
			fmt.Fprintf(stderr, "rounds serve: %d findings may identify a patient (shown on their pages); nothing can be published until each is removed:\n", n)
			for _, f := range srv.site.PHI {
				fmt.Fprintf(stderr, "  %s\n", f)
			}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	addr = ln.Addr().String()
	if srv.Origin == "" {
		srv.Origin = "http://" + addr
	}
	if err := srv.Build(); err != nil {
		return err
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		if err := srv.Watch(ctx); err != nil {
			fmt.Fprintf(stderr, "rounds serve: watching: %v\n", err)
			stop()
		}
	}()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	fmt.Fprintf(stdout, "rounds serve: http://%s%s (drafts and scheduled notes shown; Ctrl-C to stop)\n", addr, srv.Base())
	if srv.service != nil {
		fmt.Fprintf(stdout, "rounds serve: the subscribers service at http://%s%s%s, with a store of its own for the preview\n", addr, srv.Base(), ServicePath)
	}
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
