package web

import (
	"bytes"
	"encoding/json"

	"zonevet/engine"
)

// encodeAnswer renders an answer as echo's c.JSON does (a trailing newline).
// A project that carries its report as stored (Project.ReportJSON) is
// rendered with those bytes spliced in where encoding/json would have put
// the report: the same answer, byte for byte, without encoding ~7 KB again
// on every act (BENCHMARKS.md, issue 16). A Marshaler would not do: encoding/json
// scans and compacts a Marshaler's bytes, which costs more than encoding.
func encodeAnswer(v any) ([]byte, error) {
	switch a := v.(type) {
	case *engine.Project:
		if b, ok := spliceReport(a); ok {
			return append(b, '\n'), nil
		}
	case *engine.ScoreOutcome:
		if b, ok := spliceReport(a.Project); ok {
			rest := *a
			rest.Project = nil
			r, err := json.Marshal(rest)
			if err != nil {
				return nil, err
			}
			// {"project":null,…} with the project's bytes for the null.
			head := []byte(`{"project":null`)
			if !bytes.HasPrefix(r, head) {
				break
			}
			out := append([]byte(`{"project":`), b...)
			return append(append(out, r[len(head):]...), '\n'), nil
		}
	}
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}

// spliceReport encodes p with its stored report bytes in the report's
// place, or says it cannot: no project, or no stored bytes to use.
func spliceReport(p *engine.Project) ([]byte, bool) {
	if p == nil || p.Report == nil || p.ReportJSON == "" {
		return nil, false
	}
	bare := *p
	bare.Report = nil // omitempty: left out, and put back below
	b, err := json.Marshal(&bare)
	if err != nil {
		return nil, false
	}
	// The report comes just before "override" (the field order of
	// engine.Project). The last such name is the project's own: a string
	// cannot hold an unescaped quote, and no field after it holds an object.
	at := bytes.LastIndex(b, []byte(`,"override":`))
	if at < 0 {
		return nil, false
	}
	out := make([]byte, 0, len(b)+len(p.ReportJSON)+12)
	out = append(out, b[:at]...)
	out = append(out, `,"report":`...)
	out = append(out, p.ReportJSON...)
	return append(out, b[at:]...), true
}
