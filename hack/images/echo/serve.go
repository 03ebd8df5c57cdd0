package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

// serve answers every request with "echo HOSTNAME METHOD PATH from REMOTE".
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", ":8080", "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, "echo %s %s %s from %s\n", host, r.Method, r.URL.Path, r.RemoteAddr)
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	_, _ = fmt.Fprintf(os.Stdout, "echo: serving on %s as %s\n", *addr, host)
	if err := srv.ListenAndServe(); err != nil {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}
