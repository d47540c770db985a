package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/rules"
	"zonevet/store"
)

// app is the wired product: the store, the engine on top of it.
type app struct {
	db    *store.DB
	svc   *engine.Service
	fresh bool // the database file did not exist before openApp
	close func() error
}

// openApp opens (creating and migrating if needed) the database at dbPath and
// makes sure every default park has a rule set, so a new database is usable at once.
func openApp(ctx context.Context, dbPath string) (*app, error) {
	return openAppSuite(ctx, dbPath, nil)
}

// openAppSuite is openApp for `init --crypto`: a new log gets suite
// recorded as its first entry, before anything else is logged; an existing
// log must already have it. nil takes whatever the log has.
func openAppSuite(ctx context.Context, dbPath string, suite *tlog.Suite) (*app, error) {
	_, statErr := os.Stat(dbPath)
	fresh := errors.Is(statErr, os.ErrNotExist)
	db, err := store.Open(dbPath)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dbPath, err)
	}
	svc, err := engine.NewService(ctx, engine.Config{Store: db, Checkpoints: db})
	if err != nil {
		db.Close()
		return nil, err
	}
	if store.IsPostgresURL(dbPath) {
		// A PostgreSQL database is created by its administrator before
		// zonevet first opens it: it is new while its log is empty.
		es, err := db.AuditEntries(ctx, engine.AuditFilter{Limit: 1})
		if err != nil {
			db.Close()
			return nil, err
		}
		fresh = len(es) == 0
	}
	a := &app{db: db, svc: svc, fresh: fresh, close: db.Close}
	if suite != nil {
		if err := svc.RecordLogSuite(ctx, suite); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := a.installDefaultParks(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// installDefaultParks adds each embedded park and its default rule set unless
// the park already exists: an operator's edited rule set is never replaced.
func (a *app) installDefaultParks(ctx context.Context) error {
	have, err := a.db.Parks(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, p := range have {
		known[p.ID] = true
	}
	for _, id := range rules.DefaultParks() {
		if known[id] {
			continue
		}
		rs, err := rules.Default(id)
		if err != nil {
			return fmt.Errorf("default rule set %s: %w", id, err)
		}
		park := engine.Park{ID: id, NameZH: rs.ParkNameZH(), NameEN: rs.ParkNameEN(), Level: rs.Level()}
		if err := a.db.PutPark(ctx, park); err != nil {
			return err
		}
		if err := a.svc.InstallRuleSet(ctx, rs); err != nil {
			return err
		}
	}
	return nil
}
