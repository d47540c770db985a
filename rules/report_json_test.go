package rules

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestReportKeepsItsBytes: a decoded report encodes as the bytes it was
// read from (here in an order Marshal would not write), with its fields
// decoded; a report made by a screening encodes from its fields.
func TestReportKeepsItsBytes(t *testing.T) {
	rep := mustEvaluate(t, mustDefault(t, "qingyuan"), good())
	fresh, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(fresh, &back); err != nil {
		t.Fatal(err)
	}
	if back.raw = nil; back.Tier != rep.Tier || len(back.Checks) != len(rep.Checks) {
		t.Fatalf("decoded %+v, want %+v", back, *rep)
	}
	again, err := json.Marshal(&back)
	if err != nil || string(again) != string(fresh) {
		t.Fatalf("fields re-encoded %s (%v), want %s", again, err, fresh)
	}

	stored := `{"tier":"x","park":"qingyuan","rule_set_version":"v1","checks":[],"hard_failures":1,"soft_failures":0,"leading":false,"leading_sector":""}`
	var r Report
	if err := json.Unmarshal([]byte(stored), &r); err != nil {
		t.Fatal(err)
	}
	if r.Tier != "x" || r.HardFailures != 1 || r.Park != "qingyuan" {
		t.Fatalf("decoded %+v", r)
	}
	for _, v := range []any{&r, struct {
		R *Report `json:"r"`
	}{&r}} {
		got, err := json.Marshal(v)
		if err != nil || !json.Valid(got) || !strings.Contains(string(got), stored) {
			t.Errorf("encoded %s (%v), want the stored bytes %s", got, err, stored)
		}
	}
}
