package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Backup writes a consistent copy of the whole database to path, a SQLite
// file that must not exist yet, while the store stays open. On SQLite VACUUM INTO copies one
// read snapshot (writers carry on meanwhile, nothing half-committed gets in)
// and writes it compacted, as an ordinary database file, WAL folded in.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: backup: %s already exists; a backup never overwrites", path)
	}
	if db.dialect == postgresDialect {
		return db.backupToSQLite(ctx, path)
	}
	// Not on the read pool: query_only refuses VACUUM INTO, whose writes go
	// to the new file only. Not on the writer either, which would hold up
	// every decision for the length of the copy. A connection of its own
	// reads the snapshot like any reader.
	conn, err := sql.Open("sqlite", dsn(db.path, true))
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path) // a partial copy is no backup
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}

// backupToSQLite is Backup on PostgreSQL: one read snapshot copied into a
// new SQLite file through CopyTo, the path `zonevet migrate` takes. The
// backup is then an ordinary zonevet database — it opens, verifies and
// serves like any other, and `zonevet migrate --from it --to postgres://…`
// restores it — so a zone can take its data anywhere. pg_dump and the
// server's point-in-time recovery remain the database administrator's
// tools; this one is the zone's.
func (db *DB) backupToSQLite(ctx context.Context, path string) (err error) {
	dst, err := Open(path)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	defer func() {
		if cerr := dst.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("store: backup: %w", cerr)
		}
		if err != nil { // a partial copy is no backup
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(path + suffix)
			}
		}
	}()
	if _, err := db.CopyTo(ctx, dst); err != nil {
		return fmt.Errorf("store: backup to %s: %w", path, err)
	}
	return nil
}
