package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"zonevet/engine"
)

// TestAnswerSplicesTheStoredReport: the API answers a command on a project
// with the report's stored bytes spliced in, and that answer is json.Marshal's
// answer byte for byte: for a project as read, a submit, a pass, a score's
// outcome; ?pretty still indents.
func TestAnswerSplicesTheStoredReport(t *testing.T) {
	w := mustWorld(t)
	read, err := w.db.Project(w.ctx, w.project(engine.StateScreening).ID)
	if err != nil {
		t.Fatal(err)
	}
	if read.ReportJSON == "" {
		t.Fatal("the project read has no stored report bytes: nothing is spliced")
	}
	want, _ := json.Marshal(read)
	if got, _ := encodeAnswer(read); string(got) != string(want)+"\n" {
		t.Fatalf("spliced answer:\n%.300s\nwant json.Marshal's:\n%.300s", got, want)
	}

	// Each answer decodes to a project with its report, and encoding that
	// again gives the answer's bytes.
	sameAsMarshal := func(what string, body []byte, v any, report func() *engine.Project) {
		t.Helper()
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %v: %.200s", what, err, body)
		}
		if p := report(); p == nil || p.Report == nil || len(p.Report.Checks) == 0 {
			t.Fatalf("%s: no report in the answer: %.300s", what, body)
		}
		again, _ := json.Marshal(v)
		if string(body) != string(again)+"\n" {
			t.Fatalf("%s answer:\n%.300s\nwant:\n%.300s", what, body, again)
		}
	}
	act := func(who string, p *engine.Project, event string) *engine.Project {
		t.Helper()
		rec := w.bearerFor(who, engine.APIToken{}).do(http.MethodPost, fmt.Sprintf("/api/v1/projects/%d/actions", p.ID),
			engine.Action{Event: event, Version: p.Version})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", event, rec.Code, rec.Body)
		}
		var out engine.Project
		sameAsMarshal(event, rec.Body.Bytes(), &out, func() *engine.Project { return &out })
		return &out
	}
	p := act("promoter", w.project(engine.StateDraft), engine.EventSubmit)
	p = act("reviewer", p, engine.EventPass)

	rec := w.bearerFor("reviewer2", engine.APIToken{}).do(http.MethodPost, fmt.Sprintf("/api/v1/projects/%d/scores", p.ID),
		engine.ScoreInput{Round: p.Round, Items: w.fullMarks(p, 0.8)})
	if rec.Code != http.StatusCreated {
		t.Fatalf("score: %d %s", rec.Code, rec.Body)
	}
	var out engine.ScoreOutcome
	sameAsMarshal("score", rec.Body.Bytes(), &out, func() *engine.Project { return out.Project })

	q := w.project(engine.StateScreening)
	rec = w.bearerFor("reviewer", engine.APIToken{}).do(http.MethodPost, fmt.Sprintf("/api/v1/projects/%d/actions?pretty", q.ID),
		engine.Action{Event: engine.EventPass, Version: q.Version})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "\n  \"report\": {\n") {
		t.Fatalf("?pretty: %d %.300s", rec.Code, rec.Body)
	}
}
