package engine

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"zonevet/rules/catalog"
)

// ExportFormats are the formats of an export, in the order the UI offers them.
var ExportFormats = []string{"csv", "xlsx", "jsonl"}

// ExportColumns are the columns of the CSV and .xlsx exports, by their
// machine names: the entry's fields (EntryFields, so the JSON Lines and the
// table say the same; a coded field shows its value's name), the time in
// the zone's local time for people reading it in Excel, then each coded
// field's code ("event_code") for machines. ExportHeader names them.
var ExportColumns = func() []string {
	cols := append(EntryColumns(), "time_local")
	for i := range EntryFields {
		if EntryFields[i].Coded() {
			cols = append(cols, EntryFields[i].Name+"_code")
		}
	}
	return cols
}()

// ExportHeader is the export's header row in lang: catalogue messages
// "export.col.<column>" (rules/catalog/locales/exports.*.json).
func ExportHeader(lang string) []string {
	out := make([]string, len(ExportColumns))
	for i, c := range ExportColumns {
		out[i] = catalog.T(lang, "export.col."+c, nil)
	}
	return out
}

// xlsxMaxRows is Excel's sheet limit less the header row.
const xlsxMaxRows = 1<<20 - 1

// AuditWriter renders an export as it streams: Checkpoints once first, then
// Entry per entry in seq order, then Close. Nothing is held but one entry.
type AuditWriter interface {
	Checkpoints(cps []Checkpoint) error
	Entry(e *AuditEntry) error
	Close() error
}

// ContentType is the media type of an export format.
func ContentType(format string) string {
	switch format {
	case "csv":
		return "text/csv; charset=utf-8"
	case "xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "application/x-ndjson; charset=utf-8"
}

// NewAuditWriter returns a writer of format ("jsonl", "csv", "xlsx") onto w;
// loc is the zone's time zone for the local-time column, l what the CSV and
// .xlsx name codes with (the JSON Lines, which verification reads, keeps
// the codes alone).
func NewAuditWriter(w io.Writer, format string, loc *time.Location, l ExportLabels) (AuditWriter, error) {
	if loc == nil {
		loc = time.UTC
	}
	switch format {
	case "jsonl":
		return &jsonlWriter{w: bufio.NewWriterSize(w, 256<<10)}, nil
	case "csv":
		bw := bufio.NewWriterSize(w, 256<<10)
		// The byte-order mark is how Excel knows the file is UTF-8; without it
		// Chinese text opens as mojibake on a Chinese-locale Windows.
		if _, err := bw.WriteString("\uFEFF"); err != nil {
			return nil, err
		}
		cw := csv.NewWriter(bw)
		if err := cw.Write(ExportHeader(l.Lang)); err != nil {
			return nil, err
		}
		return &csvWriter{bw: bw, cw: cw, loc: loc, l: l, row: make([]string, len(ExportColumns))}, nil
	case "xlsx":
		return newXLSXWriter(w, loc, l)
	}
	return nil, FieldFail("format", "err.export_format_must_be_csv_xlsx", nil)
}

// jsonlWriter holds one entry back so that checkpoints past the end can ride
// on the last line.
type jsonlWriter struct {
	w    *bufio.Writer
	cps  []Checkpoint // ascending seq, not yet written
	held *AuditEntry
	buf  []byte
}

func (j *jsonlWriter) Checkpoints(cps []Checkpoint) error {
	j.cps = append(j.cps[:0], cps...)
	return nil
}

func (j *jsonlWriter) Entry(e *AuditEntry) error {
	if j.held != nil {
		if err := j.flush(false); err != nil {
			return err
		}
	} else {
		j.held = new(AuditEntry)
	}
	*j.held = *e
	return nil
}

// flush writes the held entry with the checkpoints at its seq (and, on the
// last line, those past it); checkpoints for seqs skipped by a filter drop.
func (j *jsonlWriter) flush(last bool) error {
	e := j.held
	n := 0
	for n < len(j.cps) && j.cps[n].Seq < e.Seq {
		n++
	}
	j.cps = j.cps[n:]
	m := 0
	for m < len(j.cps) && (j.cps[m].Seq == e.Seq || last) {
		m++
	}
	j.buf = AppendEntryJSON(j.buf[:0], e, j.cps[:m])
	j.cps = j.cps[m:]
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonlWriter) Close() error {
	if j.held != nil {
		if err := j.flush(true); err != nil {
			return err
		}
	}
	return j.w.Flush()
}

type csvWriter struct {
	bw  *bufio.Writer
	cw  *csv.Writer
	loc *time.Location
	l   ExportLabels
	row []string
}

func (c *csvWriter) Checkpoints([]Checkpoint) error { return nil }

func (c *csvWriter) Entry(e *AuditEntry) error {
	fillRow(c.row, e, c.loc, c.l)
	for i, v := range c.row {
		c.row[i] = defuseFormula(v)
	}
	return c.cw.Write(c.row)
}

func (c *csvWriter) Close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// defuseFormula keeps a spreadsheet from running a cell as a formula: text
// that Excel would read as one ("=HYPERLINK(…)" typed as a reason) gets a
// leading apostrophe, which Excel shows as text. The .xlsx needs no such
// thing (its cells are typed strings) and the JSON Lines keeps every byte.
func defuseFormula(s string) string {
	if s != "" {
		switch s[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + s
		}
	}
	return s
}

func fillRow(row []string, e *AuditEntry, loc *time.Location, l ExportLabels) {
	codes := len(EntryFields) + 1
	for i := range EntryFields {
		f := &EntryFields[i]
		row[i] = f.Value(e)
		if f.human != nil {
			row[codes] = row[i]
			row[i] = f.human(row[i], l)
			codes++
		}
	}
	row[len(EntryFields)] = e.Time.In(loc).Format("2006-01-02 15:04:05")
}

// xlsxWriter streams rows with excelize's StreamWriter (rows go to a
// temporary file, not memory) and writes the workbook on Close: a zip
// archive cannot be sent before its directory is known.
type xlsxWriter struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	loc  *time.Location
	l    ExportLabels
	rows int
	cps  []Checkpoint
	row  []string
	vals []any
}

// Sheet names of the .xlsx export.
const (
	XLSXLogSheet         = "决策日志"
	XLSXCheckpointsSheet = "签名检查点"
)

func newXLSXWriter(w io.Writer, loc *time.Location, l ExportLabels) (*xlsxWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", XLSXLogSheet); err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(XLSXLogSheet)
	if err != nil {
		return nil, err
	}
	x := &xlsxWriter{w: w, f: f, sw: sw, loc: loc, l: l, row: make([]string, len(ExportColumns)), vals: make([]any, len(ExportColumns))}
	for i, c := range ExportHeader(l.Lang) {
		x.vals[i] = c
	}
	if err := sw.SetRow("A1", x.vals); err != nil {
		return nil, err
	}
	_ = sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
	return x, nil
}

func (x *xlsxWriter) Checkpoints(cps []Checkpoint) error {
	x.cps = append(x.cps[:0], cps...)
	return nil
}

func (x *xlsxWriter) Entry(e *AuditEntry) error {
	if x.rows >= xlsxMaxRows {
		return Fail(EINVALID, "err.excel_sheet_holds_at_most_1", nil)
	}
	x.rows++
	fillRow(x.row, e, x.loc, x.l)
	for i, v := range x.row {
		if i < len(EntryFields) && EntryFields[i].Kind == FieldInt {
			x.vals[i] = *EntryFields[i].num(e) // a number cell, not text
		} else {
			x.vals[i] = v
		}
	}
	cell, err := excelize.CoordinatesToCellName(1, x.rows+1)
	if err != nil {
		return err
	}
	return x.sw.SetRow(cell, x.vals)
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if _, err := x.f.NewSheet(XLSXCheckpointsSheet); err != nil {
		return err
	}
	cw, err := x.f.NewStreamWriter(XLSXCheckpointsSheet)
	if err != nil {
		return err
	}
	if err := cw.SetRow("A1", []any{"seq", "hash", "time", "key", "sig"}); err != nil {
		return err
	}
	for i, c := range x.cps {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := cw.SetRow(cell, []any{c.Seq, c.Hash, c.Time.UTC().Format(time.RFC3339Nano), c.Key, c.Signature}); err != nil {
			return err
		}
	}
	if err := cw.Flush(); err != nil {
		return err
	}
	if _, err := x.f.WriteTo(x.w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// ExportLabelsFor names codes in lang with the parks' names as stored.
func (s *Service) ExportLabelsFor(ctx context.Context, lang string) (ExportLabels, error) {
	parks, err := s.AllParks(ctx)
	if err != nil {
		return ExportLabels{}, err
	}
	l := ExportLabels{Lang: lang, Parks: make(map[string]string, len(parks))}
	for _, p := range parks {
		l.Parks[p.ID] = p.NameZH
		if lang == catalog.EN {
			l.Parks[p.ID] = p.NameEN
		}
	}
	return l, nil
}
