package engine

import (
	"strconv"
	"time"
)

// The one description of a decision-log entry. Every encoding of an entry —
// the chain hash's message and its size, the JSON Lines encoder and parser,
// the store's columns (database/sql and the C-API reader) and the CSV/.xlsx
// columns — walks EntryFields, so a new field of AuditEntry is one row
// here (and a migration), not six hand-kept lists that must agree.
//
// The order is AuditEntry's and the export's; the chain message is the tag,
// the previous hash, then every Chained field in this order (the order the
// v1 chain has always hashed, so existing logs still verify).

// EntryFieldKind is how a field is stored and written.
type EntryFieldKind uint8

const (
	// FieldText is a string, written as a JSON string.
	FieldText EntryFieldKind = iota
	// FieldInt is an int64, written as a JSON number.
	FieldInt
	// FieldTime is a UTC time, written as RFC 3339 with nanoseconds.
	FieldTime
)

// EntryField is one field of AuditEntry: its name (the JSON key, the SQL
// column, the export column), its kind, whether the chain hash covers it,
// and where it lives in an entry.
type EntryField struct {
	Name    string
	Kind    EntryFieldKind
	Chained bool // part of the chain message's body (prev_hash is its link, hash its result)
	// Optional text is left out of the chain message when empty, so a field
	// added later keeps the hashes of the entries written before it.
	Optional bool
	text     func(*AuditEntry) *string
	num      func(*AuditEntry) *int64
	tm       func(*AuditEntry) *time.Time
	// human names a coded value (an event, a state, a role, a park) for the
	// people reading a CSV/.xlsx export; nil where the value reads as it is.
	human func(code string, l ExportLabels) string
	// jsonKey is `"name":` with the separator before it (`{` or `,`), ready
	// to append.
	jsonKey string
}

// Coded reports whether the export shows the field's value by its name,
// with the code in an extra column for machines.
func (f *EntryField) Coded() bool { return f.human != nil }

// ExportLabels is what a CSV/.xlsx export names codes with: the reader's
// language and the parks' names in it.
type ExportLabels struct {
	Lang  string
	Parks map[string]string // park id → name
}

func stateHuman(code string, l ExportLabels) string {
	if code == "" {
		return ""
	}
	return StateLabel(State(code), l.Lang)
}

// Text is where a FieldText field lives in e.
func (f *EntryField) Text(e *AuditEntry) *string { return f.text(e) }

// Int is where a FieldInt field lives in e.
func (f *EntryField) Int(e *AuditEntry) *int64 { return f.num(e) }

// Time is where a FieldTime field lives in e.
func (f *EntryField) Time(e *AuditEntry) *time.Time { return f.tm(e) }

// AppendValue appends the field's value as text: an integer in decimal, a
// time as UTC RFC 3339 with nanoseconds, a string as it is. It is the value
// the chain hashes and the CSV shows.
func (f *EntryField) AppendValue(b []byte, e *AuditEntry) []byte {
	switch f.Kind {
	case FieldInt:
		return strconv.AppendInt(b, *f.num(e), 10)
	case FieldTime:
		return f.tm(e).UTC().AppendFormat(b, time.RFC3339Nano)
	}
	return append(b, *f.text(e)...)
}

// Value is AppendValue as a string.
func (f *EntryField) Value(e *AuditEntry) string {
	if f.Kind == FieldText {
		return *f.text(e)
	}
	return string(f.AppendValue(nil, e))
}

func textField(name string, chained bool, at func(*AuditEntry) *string) EntryField {
	return EntryField{Name: name, Kind: FieldText, Chained: chained, text: at}
}

// EntryFields lists AuditEntry's fields in order.
var EntryFields = func() []EntryField {
	fs := []EntryField{
		{Name: "seq", Kind: FieldInt, Chained: true, num: func(e *AuditEntry) *int64 { return &e.Seq }},
		{Name: "time", Kind: FieldTime, Chained: true, tm: func(e *AuditEntry) *time.Time { return &e.Time }},
		textField("actor", true, func(e *AuditEntry) *string { return &e.Actor }),
		{Name: "role", Kind: FieldText, Chained: true, text: func(e *AuditEntry) *string { return (*string)(&e.Role) },
			human: func(c string, l ExportLabels) string { return RoleLabel(Role(c), l.Lang) }},
		{Name: "park", Kind: FieldText, Chained: true, text: func(e *AuditEntry) *string { return &e.Park },
			human: func(c string, l ExportLabels) string {
				if n := l.Parks[c]; n != "" {
					return n
				}
				return c
			}},
		{Name: "project_id", Kind: FieldInt, Chained: true, num: func(e *AuditEntry) *int64 { return &e.ProjectID }},
		{Name: "event", Kind: FieldText, Chained: true, text: func(e *AuditEntry) *string { return &e.Event },
			human: func(c string, l ExportLabels) string { return EventLabel(c, l.Lang) }},
		{Name: "from_state", Kind: FieldText, Chained: true, text: func(e *AuditEntry) *string { return (*string)(&e.FromState) }, human: stateHuman},
		{Name: "to_state", Kind: FieldText, Chained: true, text: func(e *AuditEntry) *string { return (*string)(&e.ToState) }, human: stateHuman},
		textField("reason", true, func(e *AuditEntry) *string { return &e.Reason }),
		textField("rule_set_version", true, func(e *AuditEntry) *string { return &e.RuleSetVersion }),
		textField("payload", true, func(e *AuditEntry) *string { return &e.Payload }),
		textField("prev_hash", false, func(e *AuditEntry) *string { return &e.PrevHash }),
		textField("hash", false, func(e *AuditEntry) *string { return &e.Hash }),
		// Added with delegations (委托): last, so the columns before it keep their places.
		{Name: "on_behalf_of", Kind: FieldText, Chained: true, Optional: true, text: func(e *AuditEntry) *string { return &e.OnBehalfOf }},
	}
	for i := range fs {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		fs[i].jsonKey = sep + `"` + fs[i].Name + `":`
	}
	return fs
}()

// entryFieldIndex finds a field by its JSON key; next is the index the
// caller expects (the one after the previous key), tried first, so a line
// in the export's own order costs one comparison per key.
func entryFieldIndex(key []byte, next int) int {
	if next < len(EntryFields) && EntryFields[next].Name == string(key) {
		return next
	}
	for i := range EntryFields {
		if EntryFields[i].Name == string(key) {
			return i
		}
	}
	return -1
}

// EntryColumns are the fields' names in order: the SQL columns of audit_log.
func EntryColumns() []string {
	out := make([]string, len(EntryFields))
	for i := range EntryFields {
		out[i] = EntryFields[i].Name
	}
	return out
}

// chainedFixedSize is what the chain message needs besides the texts'
// bytes: every length prefix, the tag, and room for each number and time.
var chainedFixedSize = func() int {
	n := 2*8 + len(chainTag)
	for i := range EntryFields {
		f := &EntryFields[i]
		if !f.Chained {
			continue
		}
		n += 8
		switch f.Kind {
		case FieldInt:
			n += 20
		case FieldTime:
			n += len(time.RFC3339Nano)
		}
	}
	return n
}()
