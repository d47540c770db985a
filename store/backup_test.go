package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

// TestBackup copies the database while decisions keep landing: the copy
// opens as a database of its own, holds every project, and its log
// verifies up to the head it was taken at.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	p := mustCreate(t, db, sampleProject("qingyuan", "备份项目"))
	if err := db.Apply(ctx, transition(p, 1, engine.EventSubmit, engine.StateScreening)); err != nil {
		t.Fatal(err)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { // writers carry on during the copy
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Actor: "reviewer1", Event: "login"}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	path := filepath.Join(t.TempDir(), "backup.db")
	err := db.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}

	copyDB, err := store.Open(path)
	if err != nil {
		t.Fatalf("open the backup: %v", err)
	}
	defer copyDB.Close()
	got, err := copyDB.Project(ctx, p.ID)
	if err != nil || got.State != engine.StateScreening || got.Version != 2 {
		t.Fatalf("project in the backup = %+v, %v", got, err)
	}
	v, err := engine.VerifyLog(ctx, copyDB)
	if err != nil || v.Bad != nil || v.Count < 2 {
		t.Fatalf("backup's log: %+v, %v", v, err)
	}
	live, err := engine.VerifyLog(ctx, db)
	if err != nil || live.Bad != nil || live.Count < v.Count {
		t.Fatalf("live log %+v (%v) behind its backup's %d entries", live, err, v.Count)
	}

	before, _ := os.ReadFile(path)
	if err := db.Backup(ctx, path); err == nil {
		t.Fatal("a second backup overwrote the first")
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("the refused backup changed the existing file")
	}
}
