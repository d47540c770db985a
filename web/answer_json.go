package web

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/labstack/echo/v4"

	"zonevet/engine"
)

// An answer that carries a project read from the store (Project.ReportJSON
// set) is rendered with the report's stored bytes spliced in where
// encoding/json would have put the report: the same answer, byte for byte,
// without encoding ~7 KB again on every act (BENCHMARKS.md, issue 16). A
// Marshaler would not do: encoding/json scans and compacts a Marshaler's
// bytes, which costs more than encoding.

// encodeAnswer renders an answer as echo's c.JSON does (a trailing newline).
func encodeAnswer(v any) ([]byte, error) {
	head, report, tail, err := answerParts(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(reportName)+len(report)+len(tail)+1)
	out = append(out, head...)
	if report != "" {
		out = append(append(out, reportName...), report...)
	}
	return append(append(out, tail...), '\n'), nil
}

// writeAnswer sends v as encodeAnswer renders it, without joining the parts.
func writeAnswer(c echo.Context, status int, v any) error {
	head, report, tail, err := answerParts(v)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	w.WriteHeader(status)
	if _, err := w.Write(head); err != nil {
		return err
	}
	if report != "" {
		// As a string to the writer underneath (net/http's takes strings),
		// not a 7 KB copy to []byte for echo's Write; its count kept here.
		for _, part := range []string{reportName, report} {
			n, err := io.WriteString(w.Writer, part)
			w.Size += int64(n)
			if err != nil {
				return err
			}
		}
	}
	_, err = w.Write(append(tail, '\n'))
	return err
}

// reportName precedes the report spliced between an answer's head and tail.
const reportName = `,"report":`

// answerParts is v's JSON in three parts: the stored report of the project
// it carries is the middle one (after reportName), empty when there is
// nothing to splice.
func answerParts(v any) (head []byte, report string, tail []byte, err error) {
	switch a := v.(type) {
	case *engine.Project:
		if head, tail, ok := aroundReport(a); ok {
			return head, a.ReportJSON, tail, nil
		}
	case *engine.ScoreOutcome:
		if head, tail, ok := aroundReport(a.Project); ok {
			rest := *a
			rest.Project = nil
			r, err := json.Marshal(rest)
			// {"project":null,…} with the project's bytes for the null.
			if prefix := []byte(`{"project":null`); err == nil && bytes.HasPrefix(r, prefix) {
				head = append([]byte(`{"project":`), head...)
				tail = append(tail, r[len(prefix):]...)
				return head, a.Project.ReportJSON, tail, nil
			}
		}
	}
	b, err := json.Marshal(v)
	return b, "", nil, err
}

// aroundReport encodes p without its report and cuts it where the report
// goes, or says it cannot: no project, or no stored bytes to splice.
func aroundReport(p *engine.Project) (head, tail []byte, ok bool) {
	if p == nil || p.Report == nil || p.ReportJSON == "" {
		return nil, nil, false
	}
	bare := *p
	bare.Report = nil // omitempty: left out, and put back by the caller
	b, err := json.Marshal(&bare)
	if err != nil {
		return nil, nil, false
	}
	// The report comes just before "override" (the field order of
	// engine.Project). The last such name is the project's own: a string
	// cannot hold an unescaped quote, and no field after it holds an object.
	at := bytes.LastIndex(b, []byte(`,"override":`))
	if at < 0 {
		return nil, nil, false
	}
	return b[:at], b[at:], true
}
