// Command echo is the e2e test workload: `echo serve` answers HTTP with the pod's identity;
// `echo get URL...` resolves each URL's host through DNS and prints the answer of a GET.
package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: echo serve [-addr :8080] | echo get [-token FILE] [-ca FILE] [-retry DURATION] [-every DURATION -for DURATION] URL...")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "get":
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		err = getAll(ctx, os.Args[2:], os.Stdout)
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}
