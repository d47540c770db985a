package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/store"
	"zonevet/store/storetest"
)

// mustLog fills the log with n entries of varied content and returns them as
// stored.
func mustLog(t testing.TB, db *store.DB, n int) []engine.AuditEntry {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= n; i++ {
		c := &engine.Change{Entry: engine.AuditEntry{
			Time:           t0.Add(time.Duration(i) * time.Hour),
			Actor:          fmt.Sprint("user", i%3),
			Role:           []engine.Role{engine.RolePromoter, engine.RoleReviewer, engine.RoleCommittee}[i%3],
			Park:           []string{"qingyuan", "yingde"}[i%2],
			ProjectID:      int64(10 + i%4),
			Event:          []string{engine.EventSubmit, engine.EventPass, engine.EventApprove}[i%3],
			FromState:      engine.StateDraft,
			ToState:        engine.StateScreening,
			Reason:         fmt.Sprintf("理由 %d", i),
			RuleSetVersion: "sha256:abc",
			Payload:        fmt.Sprintf(`{"i":%d}`, i),
		}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	es, err := db.AuditEntries(ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestAuditTriggersRefuseChanges(t *testing.T) {
	db := mustOpen(t)
	mustLog(t, db, 3)
	ctx := context.Background()
	for _, tc := range []struct{ name, sql string }{
		{"Update", `UPDATE audit_log SET reason = 'x' WHERE seq = 2`},
		{"UpdateAll", `UPDATE audit_log SET hash = hash`},
		{"Delete", `DELETE FROM audit_log WHERE seq = 3`},
		{"DeleteAll", `DELETE FROM audit_log`},
		{"InsertGap", `INSERT INTO audit_log SELECT seq + 10, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, hash, hash, on_behalf_of FROM audit_log WHERE seq = 3`},
		{"InsertFork", `INSERT INTO audit_log SELECT 4, time, actor, role, park, project_id, event, from_state, to_state, reason, rule_set_version, payload, prev_hash, hash, on_behalf_of FROM audit_log WHERE seq = 3`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Writer().ExecContext(ctx, tc.sql)
			if err == nil {
				t.Fatalf("%s succeeded, want refusal", tc.sql)
			}
			if !strings.Contains(err.Error(), "audit_log") {
				t.Fatalf("error = %v, want the trigger's message", err)
			}
		})
	}
	v, err := engine.VerifyLog(ctx, db)
	if err != nil || v.Bad != nil || v.Count != 3 {
		t.Fatalf("after refused changes: verify = %+v, %v", v, err)
	}
}

// TestAuditTamperDetected drops the triggers, as someone with the file in a
// hex editor or the sqlite3 shell could, and checks that the hash chain
// still names the first entry that no longer holds.
func TestAuditTamperDetected(t *testing.T) {
	// One byte of each column of entry 3: the fields keep their type so the
	// log still reads, only the chain can tell.
	// pg is the expression on PostgreSQL where its functions differ (and its
	// texts the chain covers are bytea).
	columns := []struct{ col, expr, pg string }{
		{"time", `substr(time, 1, 27) || char(unicode(substr(time, 28, 1)) + 1) || substr(time, 29)`,
			`substr(time, 1, 27) || chr(ascii(substr(time, 28, 1)) + 1) || substr(time, 29)`},
		{"actor", `actor || 'x'`, ""},
		{"role", `'x' || substr(role, 2)`, ""},
		{"park", `'x' || substr(park, 2)`, ""},
		{"project_id", `project_id + 1`, ""},
		{"event", `'x' || substr(event, 2)`, ""},
		{"from_state", `'x' || substr(from_state, 2)`, ""},
		{"to_state", `'x' || substr(to_state, 2)`, ""},
		{"reason", `replace(reason, '3', '4')`, `convert_to(replace(convert_from(reason, 'UTF8'), '3', '4'), 'UTF8')`},
		{"rule_set_version", `replace(rule_set_version, 'a', 'b')`, `convert_to(replace(convert_from(rule_set_version, 'UTF8'), 'a', 'b'), 'UTF8')`},
		{"payload", `replace(payload, '3', '4')`, `convert_to(replace(convert_from(payload, 'UTF8'), '3', '4'), 'UTF8')`},
		{"prev_hash", `(CASE substr(prev_hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || substr(prev_hash, 2)`, ""},
		{"hash", `(CASE substr(hash, 1, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || substr(hash, 2)`, ""},
	}
	type tamper struct {
		name    string
		sql     string
		wantSeq int64
	}
	var cases []tamper
	for _, c := range columns {
		expr := c.expr
		if c.pg != "" && storetest.OnPostgres() {
			expr = c.pg
		}
		cases = append(cases, tamper{"Alter_" + c.col, `UPDATE audit_log SET ` + c.col + ` = ` + expr + ` WHERE seq = 3`, 3})
	}
	cases = append(cases,
		tamper{"Alter_seq", `UPDATE audit_log SET seq = 13 WHERE seq = 3`, 4},
		tamper{"DeleteRow", `DELETE FROM audit_log WHERE seq = 3`, 4},
		tamper{"DeleteFirst", `DELETE FROM audit_log WHERE seq = 1`, 2},
		tamper{"SwapRows", `
			UPDATE audit_log SET seq = -2 WHERE seq = 2;
			UPDATE audit_log SET seq = 2 WHERE seq = 4;
			UPDATE audit_log SET seq = 4 WHERE seq = -2;`, 2},
		// Whoever rewrites one entry and recomputes its hash is caught at the
		// next entry, whose prev_hash still names the original.
		tamper{"RehashedEntry", "", 4},
	)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := mustOpen(t)
			es := mustLog(t, db, 6)
			w := db.Writer()
			dropLogGuards(t, db)
			sql := tc.sql
			if sql == "" {
				e := es[2]
				e.Reason = "改过的理由"
				sql = fmt.Sprintf(`UPDATE audit_log SET reason = '%s', hash = '%s' WHERE seq = 3`, e.Reason, engine.ChainHash(e.PrevHash, &e))
			}
			res, err := w.ExecContext(ctx, sql)
			if err != nil {
				t.Fatalf("tamper: %v", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				t.Fatalf("tamper changed nothing")
			}
			v, err := engine.VerifyLog(ctx, db)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			if v.Bad == nil {
				t.Fatalf("tampering not detected")
			}
			if got, want := v.Bad.Seq, tc.wantSeq; got != want {
				t.Fatalf("first bad seq = %d (%s), want %d", got, v.Bad.Reason, want)
			}
		})
	}
}

func TestAuditEntriesFilter(t *testing.T) {
	db := mustOpen(t)
	all := mustLog(t, db, 12)
	ctx := context.Background()
	seqs := func(es []engine.AuditEntry) string {
		var b strings.Builder
		for _, e := range es {
			fmt.Fprint(&b, e.Seq, " ")
		}
		return strings.TrimSpace(b.String())
	}
	for _, tc := range []struct {
		name string
		f    engine.AuditFilter
		want string
	}{
		{"All", engine.AuditFilter{}, "1 2 3 4 5 6 7 8 9 10 11 12"},
		{"Park", engine.AuditFilter{Parks: []string{"qingyuan"}}, "2 4 6 8 10 12"},
		{"Parks", engine.AuditFilter{Parks: []string{"qingyuan", "yingde"}}, "1 2 3 4 5 6 7 8 9 10 11 12"},
		{"Project", engine.AuditFilter{ProjectID: 11}, "1 5 9"},
		{"Actor", engine.AuditFilter{Actor: "user0"}, "3 6 9 12"},
		{"Role", engine.AuditFilter{Role: engine.RoleReviewer}, "1 4 7 10"},
		{"Events", engine.AuditFilter{Events: []string{engine.EventPass, engine.EventApprove}}, "1 2 4 5 7 8 10 11"},
		{"FromInclusive", engine.AuditFilter{From: t0.Add(10 * time.Hour)}, "10 11 12"},
		{"ToExclusive", engine.AuditFilter{To: t0.Add(3 * time.Hour)}, "1 2"},
		{"Range", engine.AuditFilter{From: t0.Add(4 * time.Hour), To: t0.Add(6 * time.Hour)}, "4 5"},
		{"AfterSeqPages", engine.AuditFilter{AfterSeq: 5, Limit: 3}, "6 7 8"},
		{"Combined", engine.AuditFilter{Parks: []string{"qingyuan"}, Role: engine.RoleCommittee, AfterSeq: 2}, "8"},
		{"Nothing", engine.AuditFilter{Actor: "nobody"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.AuditEntries(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if seqs(got) != tc.want {
				t.Fatalf("seqs = %q, want %q", seqs(got), tc.want)
			}
			for _, e := range got {
				if e != all[e.Seq-1] {
					t.Fatalf("entry %d = %+v, want %+v", e.Seq, e, all[e.Seq-1])
				}
			}
		})
	}
}

func TestEachAuditEntry(t *testing.T) {
	db := mustOpen(t)
	mustLog(t, db, 5)
	ctx := context.Background()
	t.Run("InOrder", func(t *testing.T) {
		var got []int64
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
			got = append(got, e.Seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "[1 2 3 4 5]" {
			t.Fatalf("seqs = %v", got)
		}
	})
	t.Run("StopsOnError", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
			n++
			if e.Seq == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Fatalf("err = %v after %d calls, want stop after 2", err, n)
		}
	})
	t.Run("WritersNotBlocked", func(t *testing.T) {
		// An export in progress must not hold up decisions.
		err := db.EachAuditEntry(ctx, func(e engine.AuditEntry) error {
			if e.Seq == 1 {
				return db.Apply(ctx, &engine.Change{Entry: engine.AuditEntry{Event: "login", Actor: "x"}})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestAuditTimeRoundTrip: the time read back hashes as written, whatever the
// caller's zone and precision.
func TestAuditTimeRoundTrip(t *testing.T) {
	db := mustOpen(t)
	ctx := context.Background()
	shanghai := time.FixedZone("CST", 8*3600)
	for i, tm := range []time.Time{
		time.Date(2025, 1, 2, 3, 4, 5, 0, shanghai),
		time.Date(2025, 1, 2, 3, 4, 5, 1, time.UTC),
		time.Date(2025, 1, 2, 3, 4, 5, 100000000, time.UTC),
		time.Now(), // with a monotonic reading
	} {
		c := &engine.Change{Entry: engine.AuditEntry{Time: tm, Event: "t", Reason: fmt.Sprint(i), Payload: "\x00\xff非UTF-8"}}
		if err := db.Apply(ctx, c); err != nil {
			t.Fatal(err)
		}
		es, _ := db.AuditEntries(ctx, engine.AuditFilter{AfterSeq: c.Entry.Seq - 1, Limit: 1})
		if !es[0].Time.Equal(tm) || es[0].Payload != c.Entry.Payload {
			t.Fatalf("read back %v %q, want %v %q", es[0].Time, es[0].Payload, tm, c.Entry.Payload)
		}
	}
	v, err := engine.VerifyLog(ctx, db)
	if err != nil || v.Bad != nil {
		t.Fatalf("verify: %v %v", err, v.Bad)
	}
}

// dropLogGuards drops the log's append-only triggers, as someone with write
// access to the file could, so that a test can tamper with entries.
func dropLogGuards(t *testing.T, db *store.DB) {
	t.Helper()
	dropTriggers(t, db, "audit_log_no_update", "audit_log_no_delete", "audit_log_extend")
}

// dropTriggers drops the named triggers where they exist, as whoever holds
// the database file, or PostgreSQL's superuser role (the test server's),
// can: the first step of tampering past the append-only guards.
func dropTriggers(t testing.TB, db *store.DB, names ...string) {
	t.Helper()
	for _, name := range names {
		q := `DROP TRIGGER IF EXISTS ` + name
		if store.IsPostgresURL(db.Path()) {
			var table string
			err := db.Writer().QueryRow(`SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = ?`, name).Scan(&table)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			} else if err != nil {
				t.Fatal(err)
			}
			q = `DROP TRIGGER ` + name + ` ON ` + table
		}
		if _, err := db.Writer().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

// tamper runs q on db as someone with write access to the database would,
// after dropping the named triggers.
func tamper(t testing.TB, db *store.DB, q string, triggers ...string) {
	t.Helper()
	dropTriggers(t, db, triggers...)
	if _, err := db.Writer().Exec(q); err != nil {
		t.Fatalf("tamper: %v", err)
	}
}

// TestOpenDeadlinesFromLog: the time a project entered its state is read
// from the log's entry into it (on PostgreSQL a bytea state compared with
// the project's text one).
func TestOpenDeadlinesFromLog(t *testing.T) {
	ctx := context.Background()
	db := mustOpen(t)
	p := mustCreate(t, db, sampleProject("qingyuan", "期限项目"))
	c := transition(p, 1, engine.EventSubmit, engine.StateScreening)
	due := t0.Add(48 * time.Hour)
	c.Project.DueAt = &due
	c.Entry.Time = t0.Add(time.Hour)
	if err := db.Apply(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := db.OpenDeadlines(ctx, []engine.State{engine.StateScreening, engine.StateExpertReview})
	if err != nil || len(got) != 1 {
		t.Fatalf("open deadlines %+v, %v; want project %d", got, err, p.ID)
	}
	if d := got[0]; d.ProjectID != p.ID || d.State != engine.StateScreening || !d.Since.Equal(c.Entry.Time) || d.DueAt == nil || !d.DueAt.Equal(due) {
		t.Fatalf("open deadline %+v, want since %v due %v", d, c.Entry.Time, due)
	}
}
