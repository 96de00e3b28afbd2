package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dcrconsole/dcrconsole/audit"
	"github.com/dcrconsole/dcrconsole/auth"
	"github.com/dcrconsole/dcrconsole/authz"
	"github.com/dcrconsole/dcrconsole/config"
	"github.com/dcrconsole/dcrconsole/store"
)

// The command-line subcommands: audit verification, holder keys, console
// accounts and processing-API keys.

func auditCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	demo := fs.Bool("demo", false, "verify the demo database")
	dbPath := fs.String("db", "", "database file or postgres:// URL (overrides the configuration)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	path := cfg.Database.DSN()
	if *demo {
		path = demoDatabasePath()
	}
	if *dbPath != "" {
		path = *dbPath // a file, or a postgres:// URL
	}
	if _, err := os.Stat(path); err != nil && !store.IsPostgresURL(path) {
		fmt.Fprintf(stderr, "audit verify: %v\n", err)
		return 2
	}
	ctx := context.Background()
	db, err := store.Open(ctx, path, store.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer db.Close()
	res, err := audit.New(db).Verify(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "audit verify: %v\n", err)
		return 2
	}
	if !res.OK {
		fmt.Fprintf(stdout, "audit chain BROKEN after checking %d events: %s\n", res.Events, res.Problem)
		return 1
	}
	fmt.Fprintf(stdout, "audit chain intact: %d events, head #%d %s\n", res.Events, res.HeadID, strings.TrimSpace(res.HeadHash))
	return 0
}

func keysCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	db, cfg, code := openForCommand(fs, args[1:], configPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx := context.Background()
	if args[0] == "rotate" {
		// Old keys stay published longer than any token they signed can live,
		// plus the running server's reload interval.
		publishFor := cfg.Holder.AccessTokenTTL.Duration + cfg.Holder.ClockSkew.Duration + time.Minute
		kid, err := authz.RotateHolderKey(ctx, db, audit.New(db), "cli", cfg.Holder.SigningAlg, publishFor)
		if err != nil {
			fmt.Fprintf(stderr, "keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new signing key %s (%s); previous keys published until %s\n", kid, cfg.Holder.SigningAlg,
			time.Now().Add(publishFor).UTC().Format(time.RFC3339))
	}
	keys, err := db.HolderKeys(ctx, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for _, k := range keys {
		state := "signing"
		if k.RetiredAt != nil {
			state = "retired, published until " + k.PublishUntil.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdout, "%s  %s  created %s  %s\n", k.KID, k.Alg, k.CreatedAt.UTC().Format(time.RFC3339), state)
	}
	return 0
}

// userCommand manages console accounts from the command line.
func userCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || (args[0] != "add" && args[0] != "passwd" && args[0] != "disable") {
		fmt.Fprint(stderr, usage)
		return 2
	}
	action, name := args[0], args[1]
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "user %s: the username comes first (got %q)\n%s", action, name, usage)
		return 2
	}
	fs := flag.NewFlagSet("user", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	role := fs.String("role", "viewer", "role: viewer, operator or admin")
	db, _, code := openForCommand(fs, args[2:], configPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx := context.Background()
	svc := auth.New(db, audit.New(db), auth.Options{})
	const cli = "cli"
	switch action {
	case "add":
		password := auth.RandomPassword()
		if _, err := svc.CreateUser(ctx, cli, name, password, *role, true, ""); err != nil {
			fmt.Fprintf(stderr, "user add: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "created %s (%s); one-time password, shown once, to be changed at first login:\n%s\n", name, *role, password)
	case "passwd", "disable":
		u, err := db.UserByName(ctx, name)
		if err != nil {
			fmt.Fprintf(stderr, "user %s: %v\n", action, err)
			return 1
		}
		if action == "disable" {
			if err := svc.UpdateUser(ctx, cli, u.ID, u.Role, true, ""); err != nil {
				fmt.Fprintf(stderr, "user disable: %v\n", err)
				return 1
			}
			fmt.Fprintf(stdout, "disabled %s; every session of it has ended\n", name)
			return 0
		}
		password := auth.RandomPassword()
		if err := svc.SetPassword(ctx, cli, u.ID, password, true, ""); err != nil {
			fmt.Fprintf(stderr, "user passwd: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "new one-time password for %s, shown once, to be changed at next login:\n%s\n", name, password)
	}
	return 0
}

// apikeyCommand manages the processing API's keys from the command line.
func apikeyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "new" && args[0] != "list" && args[0] != "revoke") || (args[0] != "list" && len(args) < 2) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	rest := args[1:]
	name := ""
	if args[0] != "list" {
		name, rest = args[1], args[2:]
		if strings.HasPrefix(name, "-") {
			fmt.Fprintf(stderr, "apikey %s: the key name comes first (got %q)\n", args[0], name)
			return 2
		}
	}
	fs := flag.NewFlagSet("apikey", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "configuration file (TOML)")
	db, _, code := openForCommand(fs, rest, configPath, stderr)
	if db == nil {
		return code
	}
	defer db.Close()
	ctx := context.Background()
	svc := auth.New(db, audit.New(db), auth.Options{})
	switch args[0] {
	case "new":
		key, err := svc.NewAPIKey(ctx, "cli", name, "")
		if err != nil {
			fmt.Fprintf(stderr, "apikey new: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "API key %s (shown once; only its hash is kept):\n%s\n", name, key)
	case "revoke":
		if err := svc.RevokeAPIKey(ctx, "cli", name, ""); err != nil {
			fmt.Fprintf(stderr, "apikey revoke: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "revoked API key %s\n", name)
	case "list":
		keys, err := svc.APIKeys(ctx)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, k := range keys {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.UTC().Format(time.RFC3339)
			}
			used := "never used"
			if k.LastUsedAt != nil {
				used = "last used " + k.LastUsedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\tcreated %s by %s\t%s\t%s\n", k.Name, k.CreatedAt.UTC().Format(time.RFC3339), k.CreatedBy, used, state)
		}
	}
	return 0
}

// openForCommand parses a subcommand's flags (no positional arguments left
// over), loads the configuration and opens the existing database: a typo in
// database.path must not create an empty database. On failure it has printed
// the reason and returns the exit code.
func openForCommand(fs *flag.FlagSet, args []string, configPath *string, stderr io.Writer) (*store.DB, config.Config, int) {
	if err := fs.Parse(args); err != nil {
		return nil, config.Config{}, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected arguments %v\n", fs.Name(), fs.Args())
		return nil, config.Config{}, 2
	}
	cfg, err := config.Load(*configPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, cfg, 2
	}
	if _, err := os.Stat(cfg.Database.Path); err != nil && !cfg.Database.Postgres() {
		fmt.Fprintf(stderr, "%s: database.path: %v (start the server once to create it)\n", fs.Name(), err)
		return nil, cfg, 2
	}
	db, err := openStore(context.Background(), cfg.Database, false)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, cfg, 1
	}
	return db, cfg, 0
}
