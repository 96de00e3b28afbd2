package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"
)

// healthCommand: dcrconsole health [--url URL] — exit 0 when URL answers 200.
// For container health checks in an image that has no curl.
func healthCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	u := fs.String("url", "http://127.0.0.1:8080/readyz", "the URL to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(*u)
	if err != nil {
		fmt.Fprintf(stderr, "health: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(stdout, "%d %s\n", resp.StatusCode, body)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}
