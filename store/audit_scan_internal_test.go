package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// packRow is what packedAuditRow selects for a row holding e (its time as
// the text tm), made by SQLite itself.
func packRow(t *testing.T, db *DB, e engine.AuditEntry, tm string) string {
	t.Helper()
	var s string
	err := db.read.QueryRow(`SELECT `+packedAuditRow+` FROM (SELECT ? AS seq, ? AS time, ? AS actor, ? AS role, ? AS park,
		? AS project_id, ? AS event, ? AS from_state, ? AS to_state, ? AS reason, ? AS rule_set_version, ? AS payload,
		? AS prev_hash, ? AS hash)`, e.Seq, tm, e.Actor, string(e.Role), e.Park, e.ProjectID, e.Event,
		string(e.FromState), string(e.ToState), e.Reason, e.RuleSetVersion, e.Payload, e.PrevHash, e.Hash).Scan(&s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUnpackAuditRow(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "pack.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const tm = "2025-01-02T03:04:05.123456789Z"
	want := engine.AuditEntry{Seq: 7, Time: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC), Actor: "a", Role: "",
		Park: "x:y", ProjectID: -3, Event: "12:", FromState: "\x00", ToState: "非\xff", Reason: "\x00",
		RuleSetVersion: "", PrevHash: "ph", Hash: "h", Payload: `{""}`}
	check := func(t *testing.T, e engine.AuditEntry) {
		t.Helper()
		var got engine.AuditEntry
		if err := unpackAuditRow(packRow(t, db, e, tm), &got); err != nil {
			t.Fatal(err)
		}
		if got != e {
			t.Fatalf("unpacked %+v, want %+v", got, e)
		}
	}
	t.Run("Odd", func(t *testing.T) { check(t, want) })
	t.Run("LargestSeq", func(t *testing.T) {
		e := want
		e.Seq, e.ProjectID = 9223372036854775807, -9223372036854775808
		check(t, e)
	})
	// Each length char() writes in one, two, three and four bytes, the
	// surrogates it writes anyway, and the largest it can write.
	for _, n := range []int{0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdfff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		t.Run(fmt.Sprintf("Length%#x", n), func(t *testing.T) {
			e := want
			e.Reason, e.Payload = strings.Repeat("r", n), strings.Repeat("p", n-1)
			check(t, e)
		})
	}
	t.Run("TooLongForItsLength", func(t *testing.T) {
		long := strings.Repeat("长", 0x110000/3+1) // 0x110001 bytes
		for _, field := range []func(*engine.AuditEntry) *string{
			func(e *engine.AuditEntry) *string { return &e.Actor },
			func(e *engine.AuditEntry) *string { return &e.Reason },
			func(e *engine.AuditEntry) *string { return &e.Payload },
		} {
			e := want
			*field(&e) = long
			var got engine.AuditEntry
			if err := unpackAuditRow(packRow(t, db, e, tm), &got); !errors.Is(err, errPackedLength) {
				t.Fatalf("err = %v, want errPackedLength", err)
			}
		}
	})
	t.Run("Malformed", func(t *testing.T) {
		ok := packRow(t, db, want, tm)
		for _, bad := range []string{"", "7", "7:", "x:1:", "7:1", "7:1:", "7:1:\x05", "7:1:\xf0\x90", ok[:len(ok)-1],
			"9223372036854775808:" + ok[2:], "7:x:" + ok[5:]} {
			var e engine.AuditEntry
			if err := unpackAuditRow(bad, &e); err == nil || errors.Is(err, errPackedLength) {
				t.Errorf("%q: %v, want an error", bad, err)
			}
		}
		// Bytes beyond the lengths read as a text too long for its length:
		// the row is then read in seq order, column by column.
		var e engine.AuditEntry
		if err := unpackAuditRow(ok+"x", &e); !errors.Is(err, errPackedLength) {
			t.Errorf("surplus: %v, want errPackedLength", err)
		}
		bad := packRow(t, db, want, "bad-time")
		if err := unpackAuditRow(bad, &e); err == nil || !strings.Contains(err.Error(), "bad-time") {
			t.Errorf("bad time: %v", err)
		}
	})
}
