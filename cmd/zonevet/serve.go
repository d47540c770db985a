package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"zonevet/web"
)

// demoLogins is printed at start-up so a first-time user can sign in at once.
const demoLogins = `Demo accounts (password "zonevet-demo"):
  promoter1 (清远)  promoter2 (英德)  reviewer1..3 (清远)  reviewer4 (英德)
  committee1  auditor1  admin
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
	docs := fs.String("docs", os.Getenv("ZONEVET_DOCS"), "folder for uploaded documents ($ZONEVET_DOCS; default: beside the database)")
	secure := fs.Bool("secure-cookies", os.Getenv("ZONEVET_SECURE_COOKIES") == "true", "mark cookies Secure (behind TLS)")
	checkpoints := addCheckpointFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *docs == "" {
		*docs = filepath.Join(filepath.Dir(*db), filepath.Base(*db)+".docs")
	}

	a, err := openApp(ctx, *db)
	if err != nil {
		return err
	}
	defer a.close()
	if a.fresh && *demo {
		fmt.Println("zonevet: new database: seeding demo data …")
		if err := seedDemo(ctx, a); err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	signingKey, err := checkpoints.start(ctx, a, *db, logger)
	if err != nil {
		return err
	}
	srv, err := web.New(web.Config{Service: a.svc, Accounts: a.db, DocsDir: *docs, Logger: logger, SecureCookies: *secure,
		CheckpointKey: signingKey})
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
