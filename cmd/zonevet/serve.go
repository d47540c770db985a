package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"zonevet/engine"
	"zonevet/web"
)

// demoLogins is printed at start-up so a first-time user can sign in at once.
const demoLogins = `Demo accounts (password "zonevet-demo"):
  promoter1 (清远)  promoter2 (英德)  reviewer1 (清远)  reviewer2, reviewer3 (清远, 英德)  reviewer4 (英德)
  committee1  auditor1  admin (清远, 英德); the sign-in page lists them too
`

// runServe starts the web application: flags override ZONEVET_* variables,
// a fresh database gets the demo data unless turned off, and SIGINT/SIGTERM
// (ctx) let in-flight requests finish before the database closes.
func runServe(ctx context.Context, args []string) error {
	fs, db := newFlags("serve")
	addr := fs.String("addr", envOr("ZONEVET_ADDR", "127.0.0.1:8080"), "listen address ($ZONEVET_ADDR)")
	demoDefault := true
	if v := os.Getenv("ZONEVET_DEMO"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("ZONEVET_DEMO=%q: want true or false", v)
		}
		demoDefault = b
	}
	demo := fs.Bool("demo", demoDefault, "seed demo parks, accounts and projects into a new database ($ZONEVET_DEMO)")
	docs := docsFlag(fs)
	secure := fs.Bool("secure-cookies", os.Getenv("ZONEVET_SECURE_COOKIES") == "true", "mark cookies Secure (behind TLS)")
	checkpoints := addCheckpointFlags(fs)
	trustedProxies := fs.String("trusted-proxies", os.Getenv("ZONEVET_TRUSTED_PROXIES"),
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client; empty: the socket address ($ZONEVET_TRUSTED_PROXIES)")
	loginLimit := fs.Int("login-limit", 5, "failed sign-ins per account and address before growing delays (an address: five times as many per 15 minutes)")
	tokenMaxDays := fs.Int("token-max-days", 365, "the longest life an API token may be given, in days (new tokens: 90 by default)")
	outbound := addOutboundFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	proxies, err := web.ParseTrustedProxies(*trustedProxies)
	if err != nil {
		return fmt.Errorf("--trusted-proxies: %w", err)
	}
	*docs = docsDir(*docs, *db)
	ob, delivery, err := outbound.delivery()
	if err != nil {
		return err
	}

	setMemoryLimit()
	a, err := openApp(ctx, *db)
	if err != nil {
		return err
	}
	defer a.close()
	if len(ob.Channels) > 0 { // a service that queues messages on the configured channels
		if a.svc, err = engine.NewService(ctx, engine.Config{Store: a.db, Checkpoints: a.db, Outbound: ob}); err != nil {
			return err
		}
	}
	if a.fresh && *demo {
		fmt.Println("zonevet: new database: seeding demo data …")
		if err := seedDemo(ctx, a, *docs); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := sweepDocuments(ctx, a, *docs, logger); err != nil {
		return err
	}
	signingKey, err := checkpoints.start(ctx, a, *db, logger)
	if err != nil {
		return err
	}
	var demoAccounts *web.DemoLogins
	if *demo {
		demoAccounts = demoLoginsOf(ctx, a)
	}
	srv, err := web.New(web.Config{Service: a.svc, Accounts: a.db, DocsDir: *docs, Logger: logger, SecureCookies: *secure,
		CheckpointKey: signingKey, Witnesses: splitList(*checkpoints.witnesses), Demo: demoAccounts, TrustedProxies: proxies, LoginLimit: *loginLimit,
		TokenMaxDays: *tokenMaxDays})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	fmt.Printf("zonevet: serving http://%s/  (database %s, documents %s)\n", ln.Addr(), *db, *docs)
	if a.fresh && *demo {
		fmt.Print(demoLogins)
	}
	runNotifyWorkers(ctx, a.svc, delivery, *outbound.sendEvery, *outbound.sweepEvery, logger)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("zonevet: shutting down …")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// setMemoryLimit gives the collector a soft limit unless GOMEMLIMIT sets
// one. Every password check allocates argon2id's 64 MiB afresh, and the
// default pacer lets the heap grow to twice what is live before collecting,
// so a burst of sign-ins would hold several checks' worth of dead blocks
// resident. The limit is what the server needs: a base for pages and
// SQLite plus one check per core (web.Config.LoginConcurrency's default).
// It is soft: a heap that truly needs more gets it, collected more often.
func setMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	const base, perCheck = 128 << 20, 64 << 20
	debug.SetMemoryLimit(base + int64(runtime.GOMAXPROCS(0))*perCheck)
}

// sweepDocuments clears what crashes left in the documents folder before
// anyone can upload: half-written files and files whose row never committed
// (web.SweepOrphanDocuments), reported in the log with their counts.
func sweepDocuments(ctx context.Context, a *app, dir string, logger *slog.Logger) error {
	docs, err := a.db.AllDocuments(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = d.StoredName
	}
	removed, orphaned, err := web.SweepOrphanDocuments(dir, names)
	if err != nil {
		return err
	}
	if removed+orphaned > 0 {
		logger.Warn("documents left by an interrupted upload", "dir", dir, "partial_removed", removed, "orphans_moved_to", filepath.Join(dir, ".orphans"), "orphans", orphaned)
	}
	return nil
}

// demoLoginsOf lists the demo accounts for the sign-in page if this is the
// demo database: its first demo account is there under the demo's name.
// A deployment that never seeded the demo has no such account.
func demoLoginsOf(ctx context.Context, a *app) *web.DemoLogins {
	first := demoUsers[0]
	if u, err := a.db.UserByName(ctx, first.name); err != nil || u.DisplayName != first.display {
		return nil
	}
	d := &web.DemoLogins{Password: demoPassword}
	for _, du := range demoUsers {
		acc := web.DemoAccount{Username: du.name, DisplayName: du.display}
		for _, park := range slices.Sorted(maps.Keys(du.roles)) {
			for _, r := range du.roles[park] {
				acc.Roles = append(acc.Roles, engine.RoleAssignment{Role: r, Park: park})
			}
		}
		d.Accounts = append(d.Accounts, acc)
	}
	return d
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
