package engine_test

import (
	"slices"
	"testing"

	"zonevet/engine"
)

// TestAuditPageOnlyOwnParks: an auditor of qingyuan pages through the log and
// gets exactly the entries whose park is qingyuan or zone-wide (park ""),
// compared by sequence number with the log read straight from the store; the
// yingde project's entries never appear.
func TestAuditPageOnlyOwnParks(t *testing.T) {
	w := mustWorld(t)
	w.drive("qingyuan", goodFigures(), engine.StateScreening)
	other := w.drive("yingde", goodFigures(), engine.StateScreening)
	all, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var want, leaked []int64
	for _, e := range all {
		if e.Park == "qingyuan" || e.Park == "" {
			want = append(want, e.Seq)
		} else {
			leaked = append(leaked, e.Seq)
		}
	}
	if len(leaked) == 0 || len(want) == 0 {
		t.Fatalf("the log should hold entries of both parks: own %v, other %v", want, leaked)
	}
	got, total, err := w.svc.AuditLog(nil).Page(w.ctx, w.users["auditor-qingyuan"], engine.AuditQuery{AuditFilter: engine.AuditFilter{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range got {
		if e.ProjectID == other.ID || (e.Park != "qingyuan" && e.Park != "") {
			t.Errorf("entry #%d of park %q, project %d reached qingyuan's auditor", e.Seq, e.Park, e.ProjectID)
		}
		seqs = append(seqs, e.Seq)
	}
	if !slices.Equal(seqs, want) || total != len(want) {
		t.Fatalf("page seqs %v (total %d), want %v", seqs, total, want)
	}
}
