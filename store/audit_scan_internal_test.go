package store

import (
	"testing"

	"zonevet/engine"
)

func TestUnpackAuditRow(t *testing.T) {
	var e engine.AuditEntry
	ok := "7:-3:30:2025-01-02T03:04:05.123456789Z1:a0:3:x:y0:0:0:1:\x000:2:ph1:h4:{\"\"}"
	if err := unpackAuditRow(ok, &e); err != nil {
		t.Fatal(err)
	}
	if e.Seq != 7 || e.ProjectID != -3 || e.Actor != "a" || e.Role != "" || e.Park != "x:y" || e.Reason != "\x00" ||
		e.PrevHash != "ph" || e.Hash != "h" || e.Payload != `{""}` || e.Time.Nanosecond() != 123456789 {
		t.Fatalf("unpacked %+v", e)
	}
	big := "9223372036854775807:" + ok[2:]
	if err := unpackAuditRow(big, &e); err != nil || e.Seq != 9223372036854775807 {
		t.Fatalf("largest seq: %d %v", e.Seq, err)
	}
	for _, bad := range []string{"", "7", "7:", "x:1:", "7:1:99:short", ok + "x", ok[:len(ok)-1], "7:1:-1:" + ok[5:],
		"9223372036854775808:" + ok[2:]} {
		if err := unpackAuditRow(bad, &e); err == nil {
			t.Errorf("%q: unpacked without error", bad)
		}
	}
}
