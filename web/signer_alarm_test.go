package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"zonevet/store/storetest"
)

// TestProofPageSignerAlarm: when the log is cut below its last checkpoint,
// "checkpoint now" is refused, nothing is signed, and the proof page shows
// the signer's alarm, which does not depend on the (distrusted) log.
func TestProofPageSignerAlarm(t *testing.T) {
	w, _ := auditWorld(t)
	auditor := w.login("auditor")
	if rec := auditor.do("POST", "/audit/checkpoints", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("checkpoint now: %d", rec.Code)
	}
	page := parseHTML(t, auditor.do("GET", "/audit/proof", nil).Body.String())
	if attr(byID(page, "signer-alarm"), "id") != "" {
		t.Fatal("alarm shown over an intact log")
	}
	before, _ := w.db.Checkpoints(w.ctx)

	raw, pg := storetest.Raw(t, w.db.Path())
	for _, q := range []string{dropTrigger(pg, "audit_log_no_delete", "audit_log"), "DELETE FROM audit_log WHERE seq > 3"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if rec := auditor.do("POST", "/audit/checkpoints", url.Values{}); rec.Code != http.StatusSeeOther {
		t.Fatalf("refused checkpoint: %d, want the proof page again", rec.Code)
	}
	if after, _ := w.db.Checkpoints(w.ctx); len(after) != len(before) {
		t.Fatalf("a cut log was signed: %d → %d checkpoints", len(before), len(after))
	}
	page = parseHTML(t, auditor.do("GET", "/audit/proof", nil).Body.String())
	alarm := byID(page, "signer-alarm")
	if attr(alarm, "id") == "" || !strings.Contains(text(alarm), "tail was cut") || !strings.Contains(text(alarm), "签名程序拒绝") {
		t.Fatalf("proof page alarm: %q", text(alarm))
	}
}
