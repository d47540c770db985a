package engine_test

import (
	"encoding/json"
	"testing"

	"zonevet/engine"
)

// TestPassRecordsTheStoredReport: a pass's log entry carries the report it
// rests on as the bytes stored for it, which are the bytes encoding the
// report again would give (the entry is unchanged by not encoding it); a
// submit's project holds the new report, never the old stored bytes.
func TestPassRecordsTheStoredReport(t *testing.T) {
	w := mustWorld(t)
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	if p.ReportJSON != "" {
		t.Fatalf("the submitted project kept stored report bytes %.40q", p.ReportJSON)
	}
	read, err := w.db.Project(w.ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	encoded, err := json.Marshal(read.Report)
	if err != nil {
		t.Fatal(err)
	}
	if read.ReportJSON == "" || read.ReportJSON != string(encoded) {
		t.Fatalf("stored report JSON (%d bytes) is not the report's encoding (%d bytes)", len(read.ReportJSON), len(encoded))
	}
	w.act("reviewer-qingyuan", p, engine.EventPass, "")
	es := w.entriesOf(p)
	last := es[len(es)-1]
	if last.Event != engine.EventPass {
		t.Fatalf("last entry %q, want pass", last.Event)
	}
	if last.Payload != string(encoded) {
		t.Fatalf("pass payload:\n%.200s\nwant the report as stored:\n%.200s", last.Payload, encoded)
	}
}
