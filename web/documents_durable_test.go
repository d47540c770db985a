package web

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"zonevet/engine"
	"zonevet/store/storetest"
)

// TestDocumentUploadOneTransaction: the document's row and its log entry are
// one transaction. When the entry cannot be written, the upload fails whole:
// no row and no file are left. When it succeeds, the entry names the stored
// document by its id.
func TestDocumentUploadOneTransaction(t *testing.T) {
	w := mustWorld(t)
	p := w.project(engine.StateDraft)
	c := w.login("promoter")
	docsDir := w.srv.cfg.DocsDir
	target := fmt.Sprintf("/projects/%d/documents", p.ID)

	// The log refuses upload entries, as a full disk or an I/O error would
	// refuse the transaction's second write.
	raw, pg := storetest.Raw(t, w.db.Path())
	refuse := []string{`CREATE TRIGGER refuse_upload BEFORE INSERT ON audit_log WHEN NEW.event = 'upload'
		BEGIN SELECT RAISE(ABORT, 'disk full'); END`}
	if pg {
		refuse = []string{`CREATE FUNCTION refuse_upload() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'disk full'; END $$`,
			`CREATE TRIGGER refuse_upload BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.event = 'upload')
			EXECUTE FUNCTION refuse_upload()`}
	}
	for _, q := range refuse {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if rec := c.do("POST", target, w.multipart("feasibility", "可研.pdf", pdfBytes())); rec.Code < 500 {
		t.Fatalf("upload with the log refusing: %d, want a server error", rec.Code)
	}
	if docs, err := w.svc.Documents(w.ctx, w.users["promoter"], p.ID); err != nil || len(docs) != 0 {
		t.Fatalf("documents after a failed upload: %+v %v; want none", docs, err)
	}
	if files := regularFiles(t, docsDir); len(files) != 0 {
		t.Fatalf("files left after a failed upload: %v", files)
	}

	if _, err := raw.Exec(dropTrigger(pg, "refuse_upload", "audit_log")); err != nil {
		t.Fatal(err)
	}
	if rec := c.do("POST", target, w.multipart("feasibility", "可研.pdf", pdfBytes())); rec.Code != 303 {
		t.Fatalf("upload: %d", rec.Code)
	}
	docs, err := w.svc.Documents(w.ctx, w.users["promoter"], p.ID)
	if err != nil || len(docs) != 1 {
		t.Fatalf("documents = %+v %v", docs, err)
	}
	if files := regularFiles(t, docsDir); !slices.Equal(files, []string{docs[0].StoredName}) {
		t.Fatalf("files %v, want only %s", files, docs[0].StoredName)
	}
	h, err := w.svc.History(w.ctx, w.users["promoter"], p.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := h[len(h)-1]
	var logged engine.Document
	if err := json.Unmarshal([]byte(last.Payload), &logged); err != nil || last.Event != "upload" || logged.ID != docs[0].ID || logged.SHA256 != docs[0].SHA256 {
		t.Fatalf("last entry %s %s (%v), want the upload of document %d", last.Event, last.Payload, err, docs[0].ID)
	}
}

// TestSweepOrphanDocuments: at start, a file still being written when the
// process died is removed, a complete file no row names is moved aside into
// .orphans (a file is evidence), and the documents and other features'
// hidden files are left alone.
func TestSweepOrphanDocuments(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{".upload-123", "orphan", "kept", ".import-7-x.xlsx"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	removed, orphaned, err := SweepOrphanDocuments(dir, []string{"kept"})
	if err != nil || removed != 1 || orphaned != 1 {
		t.Fatalf("sweep = %d removed, %d orphaned, %v; want 1, 1", removed, orphaned, err)
	}
	if got := regularFiles(t, dir); !slices.Equal(got, []string{".import-7-x.xlsx", "kept"}) {
		t.Fatalf("left %v", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".orphans", "orphan")); err != nil || string(b) != "orphan" {
		t.Fatalf("orphan not kept aside: %q %v", b, err)
	}
	if removed, orphaned, err := SweepOrphanDocuments(dir, []string{"kept"}); err != nil || removed+orphaned != 0 {
		t.Fatalf("second sweep = %d, %d, %v; want nothing", removed, orphaned, err)
	}
}

// regularFiles lists the plain files directly in dir, sorted.
func regularFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Type().IsRegular() {
			out = append(out, e.Name())
		}
	}
	return out
}
