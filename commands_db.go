package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/store"
)

// dbCommand: dcrconsole db copy --from sqlite:PATH --to postgres://...
//
// It moves a deployment from its SQLite file to an empty PostgreSQL database:
// every table, the audit chain as stored. Then it verifies the chain on the
// target and compares its head with the source's: the same head hash proves
// nothing was lost or altered. Stop the server first (the source is read, not
// locked against a writer); the target is migrated to this binary's schema.
func dbCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprintln(stderr, "usage: dcrconsole db copy --from sqlite:PATH --to postgres://USER:PASSWORD@HOST:PORT/DB")
		return 2
	}
	fs := flag.NewFlagSet("db copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the source: sqlite:PATH")
	to := fs.String("to", "", "the destination: a postgres:// URL of an empty database (or set DCRCONSOLE_DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *to == "" {
		*to = os.Getenv("DCRCONSOLE_DATABASE_URL")
	}
	path, ok := strings.CutPrefix(*from, "sqlite:")
	if !ok || path == "" || !store.IsPostgresURL(*to) {
		fmt.Fprintln(stderr, "db copy: --from sqlite:PATH and --to postgres://... are required")
		return 2
	}
	if _, err := os.Stat(path); err != nil {
		fmt.Fprintf(stderr, "db copy: %v\n", err)
		return 2
	}
	if err := copyDatabase(context.Background(), path, *to, stdout); err != nil {
		fmt.Fprintf(stderr, "db copy: %v\n", err)
		return 1
	}
	return 0
}

func copyDatabase(ctx context.Context, path, url string, stdout io.Writer) error {
	src, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	srcHead, err := audit.New(src).Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify the source: %w", err)
	}
	if !srcHead.OK {
		return fmt.Errorf("the source's audit chain is broken (%s); not copying", srcHead.Problem)
	}
	tables, err := store.Copy(ctx, src, dst)
	for _, t := range tables {
		fmt.Fprintf(stdout, "copied %-22s %d rows\n", t.Name, t.Rows)
	}
	if err != nil {
		return err
	}
	res, err := audit.New(dst).Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify the destination: %w", err)
	}
	if !res.OK || res.HeadID != srcHead.HeadID || res.HeadHash != srcHead.HeadHash {
		return fmt.Errorf("the destination's audit chain differs: %+v, source head #%d %s", res, srcHead.HeadID, srcHead.HeadHash)
	}
	fmt.Fprintf(stdout, "audit chain intact on the destination: %d events, head #%d %s (the source's head)\n", res.Events, res.HeadID, res.HeadHash)
	return nil
}
