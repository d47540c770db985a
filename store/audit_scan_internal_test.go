package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestAuditReader: the C-API reader gives, chunk by chunk, exactly the
// entries database/sql reads, whatever bytes their texts hold.
func TestAuditReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "reader.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	odd := []string{"", "\x00", "\x00\xff非UTF-8\x00", "长", strings.Repeat("x", 70000)}
	for i := range 12 {
		e := engine.AuditEntry{Time: time.Date(2025, 1, 2, 3, 4, 5, i*1000+7, time.UTC), Actor: odd[i%len(odd)],
			Role: engine.Role(odd[(i+1)%len(odd)]), Park: odd[(i+2)%len(odd)], ProjectID: int64(i - 6),
			Event: "e" + odd[(i+3)%len(odd)], Reason: odd[(i+4)%len(odd)], Payload: odd[(i+1)%len(odd)] + "}"}
		if err := db.Apply(ctx, &engine.Change{Entry: e}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := db.AuditEntries(ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := openAuditReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for _, span := range [][2]int64{{0, 12}, {0, 1}, {11, 12}, {3, 8}, {12, 20}, {5, 5}} {
		got, err := r.readChunk(span[0], span[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		ref := want[min(span[0], 12):min(span[1], 12)]
		if len(got) != len(ref) {
			t.Fatalf("%v: %d entries, want %d", span, len(got), len(ref))
		}
		for i := range ref {
			if got[i] != ref[i] {
				t.Fatalf("%v: entry %d = %+v, want %+v", span, i, got[i], ref[i])
			}
		}
	}
	if _, err := openAuditReader(filepath.Join(t.TempDir(), "missing.db")); err == nil || !strings.Contains(err.Error(), "audit reader: open") {
		t.Fatalf("missing database: %v", err)
	}
}
