package engine_test

import (
	"encoding/json"
	"testing"

	"zonevet/engine"
	"zonevet/rules"
)

// TestPassRecordsTheStoredReport: a pass's log entry carries the report it
// rests on as the bytes stored for it, which are the bytes encoding the
// report again would give (the entry is unchanged by not encoding it); a
// submit encodes its new report once, and the project it answers with, the
// stored report and the submit's entry all hold exactly json.Marshal's bytes.
func TestPassRecordsTheStoredReport(t *testing.T) {
	w := mustWorld(t)
	p := w.act("promoter-qingyuan", w.create("qingyuan", goodFigures()), engine.EventSubmit, "")
	fresh, err := json.Marshal(p.Report)
	if err != nil {
		t.Fatal(err)
	}
	if p.ReportJSON != string(fresh) {
		t.Fatalf("the submitted project's report bytes (%d) are not its new report's encoding (%d)", len(p.ReportJSON), len(fresh))
	}
	sub, err := json.Marshal(struct {
		Figures rules.Figures `json:"figures"`
		Report  *rules.Report `json:"report"`
	}{p.Figures, p.Report})
	if err != nil {
		t.Fatal(err)
	}
	if es := w.entriesOf(p); es[len(es)-1].Payload != string(sub) {
		t.Fatalf("submit payload:\n%.300s\nwant json.Marshal of the submission:\n%.300s", es[len(es)-1].Payload, sub)
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
