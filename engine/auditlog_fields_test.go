package engine_test

import (
	"reflect"
	"strings"
	"testing"

	"zonevet/engine"
)

// TestEntryFieldsDescribeAuditEntry: the field table is the one description
// of an entry, so every field of AuditEntry has exactly one row, named by
// its JSON tag, in the struct's order, of the kind its Go type needs; and
// only the two link fields are left out of the chain message's body.
func TestEntryFieldsDescribeAuditEntry(t *testing.T) {
	typ := reflect.TypeOf(engine.AuditEntry{})
	if got, want := len(engine.EntryFields), typ.NumField(); got != want {
		t.Fatalf("EntryFields has %d rows, AuditEntry %d fields", got, want)
	}
	for i := range typ.NumField() {
		sf, f := typ.Field(i), engine.EntryFields[i]
		if name, _, _ := strings.Cut(sf.Tag.Get("json"), ","); f.Name != name {
			t.Errorf("row %d is %q, AuditEntry's field %d is %s (json %q)", i, f.Name, i, sf.Name, name)
		}
		want := engine.FieldText
		switch sf.Type.String() {
		case "int64":
			want = engine.FieldInt
		case "time.Time":
			want = engine.FieldTime
		}
		if f.Kind != want {
			t.Errorf("%s: kind %d, want %d for %s", f.Name, f.Kind, want, sf.Type)
		}
		if chained := f.Name != "prev_hash" && f.Name != "hash"; f.Chained != chained {
			t.Errorf("%s: Chained %v, want %v", f.Name, f.Chained, chained)
		}
	}
	// Each row reaches its own field: set every field through the table and
	// read it back through the struct.
	var e engine.AuditEntry
	for i := range engine.EntryFields {
		f := &engine.EntryFields[i]
		switch f.Kind {
		case engine.FieldInt:
			*f.Int(&e) = int64(100 + i)
		case engine.FieldText:
			*f.Text(&e) = "v-" + f.Name
		}
	}
	v := reflect.ValueOf(e)
	for i := range engine.EntryFields {
		f := &engine.EntryFields[i]
		switch f.Kind {
		case engine.FieldInt:
			if got := v.Field(i).Int(); got != int64(100+i) {
				t.Errorf("%s: row writes another field (%d)", f.Name, got)
			}
		case engine.FieldText:
			if got := v.Field(i).String(); got != "v-"+f.Name {
				t.Errorf("%s: row writes another field (%q)", f.Name, got)
			}
		}
	}
}
