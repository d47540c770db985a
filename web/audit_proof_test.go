package web

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestDossierCarriesInclusionProofs: the printed dossier has, for each of
// the project's entries the latest checkpoint covers, an inclusion proof
// that verifies offline against the log's public key alone; an entry
// written after the checkpoint has none (yet).
func TestDossierCarriesInclusionProofs(t *testing.T) {
	w, p := auditWorld(t)
	if _, _, err := w.svc.AuditLog(auditTestKey).Checkpoint(w.ctx, true); err != nil {
		t.Fatal(err)
	}
	rec := w.login("auditor").do("GET", "/projects/"+itoa(p.ID)+"/dossier", nil)
	doc := parseHTML(t, rec.Body.String())
	history, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{ProjectID: p.ID})
	if err != nil {
		t.Fatal(err)
	}
	rows := findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-seq") != "" })
	if len(rows) != len(history) {
		t.Fatalf("%d proof rows, %d entries of the project", len(rows), len(history))
	}
	pub := auditTestKey.Public().(ed25519.PublicKey)
	proved := 0
	for _, r := range rows {
		pres := findAll(r, func(n *html.Node) bool { return n.Data == "pre" })
		if len(pres) == 0 {
			continue
		}
		var d engine.ProofDoc
		if err := json.Unmarshal([]byte(text(pres[0])), &d); err != nil {
			t.Fatalf("row %s: %v", attr(r, "data-seq"), err)
		}
		if itoa(d.Entry.Seq) != attr(r, "data-seq") {
			t.Fatalf("row %s holds the proof of entry %d", attr(r, "data-seq"), d.Entry.Seq)
		}
		if err := engine.VerifyProof(&d, pub, nil); err != nil {
			t.Fatalf("entry %d: %v", d.Entry.Seq, err)
		}
		proved++
	}
	// The dossier view itself is logged after the checkpoint: it alone is unproven.
	if proved != len(history)-1 {
		t.Fatalf("%d of %d entries proved, want all but the dossier view", proved, len(history))
	}
}
