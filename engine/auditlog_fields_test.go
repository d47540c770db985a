package engine_test

import (
	"bytes"
	"encoding/json"
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

// TestCheckpointJSONMatchesEncodingJSON: an export line carrying a signed
// note checkpoint (root, note with newlines and the em dash) and an old
// bare one is byte for byte what encoding/json writes.
func TestCheckpointJSONMatchesEncodingJSON(t *testing.T) {
	e := chain(1)[0]
	withNote, err := engine.SignTreeCheckpoint(testKey, engine.LogOrigin(e.Hash), 1, e.Hash, []byte("0123456789abcdef0123456789abcdef"), e.Time)
	if err != nil {
		t.Fatal(err)
	}
	cps := []engine.Checkpoint{engine.SignCheckpoint(testKey, 1, e.Hash, e.Time), withNote}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		engine.AuditEntry
		Checkpoints []engine.Checkpoint `json:"checkpoints"`
	}{e, cps}); err != nil {
		t.Fatal(err)
	}
	if got := append(engine.AppendEntryJSON(nil, &e, cps), '\n'); !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got  %s\nwant %s", got, want.Bytes())
	}
}
