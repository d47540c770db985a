package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"zonevet/engine"
	"zonevet/store"
)

// TestCLIBackup: the backup holds the database and every document, each
// file checked against the digest taken at upload, and says so; a file that
// changed since is named, and the exit status says the backup is not whole.
func TestCLIBackup(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()

	docs := filepath.Join(dir, "zonevet.db.docs")
	if err := os.MkdirAll(docs, 0o700); err != nil { // the demo filed its meeting minutes there already
		t.Fatal(err)
	}
	files := map[string]string{"a1": "环评批复 PDF", "b2": "土地出让合同"}
	db, err := store.Open(c.db)
	if err != nil {
		t.Fatal(err)
	}
	// The demo files documents of its own (the 一事一议 minutes, and the
	// minutes of every committee meeting's decision): count them.
	demoDocs := 0
	for id := int64(1); ; id++ {
		if _, err := db.Project(context.Background(), id); err != nil {
			break
		}
		ds, err := db.Documents(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		demoDocs += len(ds)
	}
	if demoDocs == 0 {
		t.Fatal("the demo filed no documents: the count below would prove little")
	}
	total := demoDocs + len(files)
	for name, content := range files {
		sum := sha256.Sum256([]byte(content))
		if err := os.WriteFile(filepath.Join(docs, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		d := &engine.Document{ProjectID: 1, Kind: "eia", FileName: name + ".pdf", StoredName: name, Size: int64(len(content)), SHA256: hex.EncodeToString(sum[:])}
		if err := db.AddDocument(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	// One file changed after upload: the backup is written but not whole.
	if err := os.WriteFile(filepath.Join(docs, "b2"), []byte("土地出让合同(改)"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := c.run("backup", filepath.Join(dir, "bk1"))
	if code != 2 || !strings.Contains(errOut, "b2.pdf") || !strings.Contains(out, fmt.Sprintf("%d of %d copied and checked", total-1, total)) {
		t.Fatalf("backup with a changed document: exit %d\n%s%s", code, out, errOut)
	}

	if err := os.WriteFile(filepath.Join(docs, "b2"), []byte(files["b2"]), 0o600); err != nil {
		t.Fatal(err)
	}
	bk := filepath.Join(dir, "bk2")
	out = c.ok("backup", bk)
	for _, want := range []string{"decision log intact", fmt.Sprintf("%d of %d copied and checked", total, total), "signing key"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup output lacks %q:\n%s", want, out)
		}
	}
	for name, content := range files {
		if got, err := os.ReadFile(filepath.Join(bk, "zonevet.db.docs", name)); err != nil || string(got) != content {
			t.Errorf("backed-up %s = %q, %v", name, got, err)
		}
	}
	live := c.ok("audit", "verify")
	copied := c.ok("audit", "verify", "--db", filepath.Join(bk, "zonevet.db"))
	if head := func(s string) string { return s[:strings.Index(s, ";")] }; head(live) != head(copied) {
		t.Errorf("the copy's log differs from the live one:\n%s\n%s", live, copied)
	}
	if _, errOut, code := c.run("backup", bk); code == 0 || !strings.Contains(errOut, "new") {
		t.Errorf("a backup into an existing folder: exit %d %s", code, errOut)
	}
}
