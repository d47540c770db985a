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

// TestProofPageShowsWitnesses: per witness, the last cosigned size from
// the stored cosignatures; a witness whose push failed is flagged (the
// checkpoint waits for it), one that is current is not.
func TestProofPageShowsWitnesses(t *testing.T) {
	up, down := "http://127.0.0.1:7381", "http://127.0.0.1:7382"
	w := mustWorldConfig(t, Config{CheckpointKey: auditTestKey, Witnesses: []string{up, down}})
	l := w.svc.AuditLog(auditTestKey)
	c, _, err := l.Checkpoint(w.ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.AddCosignature(w.ctx, &engine.Cosignature{WitnessURL: up, Name: "w1", Seq: c.Seq, Time: c.Time, Note: c.Note}); err != nil {
		t.Fatal(err)
	}
	l.SetWitnessError(down, "connection refused")
	doc := parseHTML(t, w.login("auditor").do("GET", "/audit/proof", nil).Body.String())
	rows := findAll(doc, func(n *html.Node) bool { return n.Data == "tr" && attr(n, "data-witness") != "" })
	if len(rows) != 2 {
		t.Fatalf("%d witness rows", len(rows))
	}
	if attr(rows[0], "data-witness") != up || attr(rows[0], "data-seq") != itoa(c.Seq) || attr(rows[0], "class") != "" {
		t.Errorf("current witness row: seq %s class %q", attr(rows[0], "data-seq"), attr(rows[0], "class"))
	}
	if attr(rows[1], "data-witness") != down || attr(rows[1], "data-seq") != "0" || attr(rows[1], "class") != "row-warn" {
		t.Errorf("down witness row: seq %s class %q", attr(rows[1], "data-seq"), attr(rows[1], "class"))
	}
}
