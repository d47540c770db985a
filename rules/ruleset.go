package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"zonevet/rules/catalog"
)

// RuleSet is one park's parsed and validated rules. It is immutable after
// Parse and safe for concurrent use; the engine keeps one per active version.
type RuleSet struct {
	spec       *fileSpec
	version    string
	source     []byte
	metrics    []metric
	checks     []check
	prefixes   []sectorPrefix              // leading-industry code prefixes, longest first
	indicators []*formula                  // compiled rating formulas, parallel to spec.Rating.Indicators
	floorIdx   int                         // index of the floor indicator, -1 without a floor
	capTexts   []frame                     // the rating's "capped" reasons, per indicator
	main       *ratingMethod               // the rating's indicators, prepared for scoring
	below      *ratingMethod               // the below-scale method, nil without one
	precision  int                         // decimals metrics are rounded to before comparing
	limits     map[float64]decimal.Decimal // the checks' configured values at precision (prepare)
	figureMode map[string]string
	required   []requiredFigure // the figures Incomplete asks for, in form order (prepare)
}

// requiredFigure is a figure a submit cannot leave blank; land ones only
// when the plant is not leased.
type requiredFigure struct {
	name string
	land bool
}

// metric is a Metric with its compiled formula; used marks metrics some
// check reads, the only ones Evaluate computes.
type metric struct {
	Metric
	formula *formula
	used    bool
}

// sectorPrefix maps one code prefix to its leading sector.
type sectorPrefix struct {
	code   string
	sector int
}

// Parse reads a rule-set file, validates it and compiles its formulas. Any
// mistake, however many, comes back as one *ValidationError that names the
// file, and for each problem the rule and field (and line where known).
// filename is only used in messages.
func Parse(filename string, data []byte) (rs *RuleSet, err error) {
	// A rule file comes from an official's upload; whatever it holds must
	// come back as an error, never crash the server, even if a library
	// underneath panics on input nobody foresaw.
	defer func() {
		if r := recover(); r != nil {
			rs, err = nil, &ValidationError{File: filename, Problems: []Problem{{Rule: "file", Field: "-", Message: fmt.Sprintf("unreadable file: %v", r)}}}
		}
	}()
	f, spec, probs := parseFile(filename, data)
	if probs != nil {
		return nil, &ValidationError{File: filename, Problems: probs}
	}
	b := &builder{file: filename, ast: f, spec: spec}
	rs = b.build()
	if len(b.problems) > 0 {
		return nil, &ValidationError{File: filename, Problems: b.problems}
	}
	canon, err := canonical(spec)
	if err != nil {
		return nil, fmt.Errorf("rules: canonical form of %s: %w", filename, err)
	}
	sum := sha256.Sum256(canon)
	rs.version = hex.EncodeToString(sum[:])
	rs.source = bytes.Clone(data)
	return rs, nil
}

// canonical is the rule set as JSON with every object's keys sorted and
// empty values dropped: comments, layout, key order, 300 vs 300.0, "≥" vs
// ">=" and an omitted vs empty list do not change it; any number, name or
// code does.
func canonical(spec *fileSpec) ([]byte, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(prune(v)) // encoding/json sorts map keys
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		for i := range x {
			x[i] = prune(x[i])
		}
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

// Park is the park id, e.g. "qingyuan"; it is also the casbin domain.
func (rs *RuleSet) Park() string { return rs.spec.Park }

// ParkNameZH is the park's Chinese name, e.g. 清远高新区.
func (rs *RuleSet) ParkNameZH() string { return rs.spec.NameZH }

// ParkNameEN is the park's English name.
func (rs *RuleSet) ParkNameEN() string { return rs.spec.NameEN }

// Level is "national" or "provincial".
func (rs *RuleSet) Level() string { return rs.spec.Level }

// Version is the hex SHA-256 of the rule set's canonical form. Every report
// and decision records it, so the exact rules behind a decision can be
// found again years later; reformatting or re-commenting the file keeps it.
func (rs *RuleSet) Version() string { return rs.version }

// Source returns the file as it was parsed, comments included, for storage
// next to its Version.
func (rs *RuleSet) Source() []byte { return bytes.Clone(rs.source) }

// ThresholdEN is the English display form of check id's threshold where the
// report's stored one is Chinese text (a requires check names its metrics
// and the figure it requires); "" where the stored form reads in any
// language.
func (rs *RuleSet) ThresholdEN(id string) string {
	for _, c := range rs.checks {
		if c.id == id {
			return c.thresholdEN
		}
	}
	return ""
}

// Scoring returns the expert scoring sheet (a copy).
func (rs *RuleSet) Scoring() ScoringSheet {
	s := rs.spec.Scoring
	s.Criteria = slices.Clone(s.Criteria)
	return s
}

// ScoreTotal checks one reviewer's sheet against the scoring sheet and adds
// it up: every criterion must be scored, each within [0, Max], with no
// unknown criteria. The *InputError names the offending criterion in Field.
// The total is rounded to 1e-6 so that sums of halves and tenths compare
// exactly with the pass mark.
func (rs *RuleSet) ScoreTotal(items map[string]float64) (float64, error) {
	crit := rs.spec.Scoring.Criteria
	for _, id := range slices.Sorted(maps.Keys(items)) {
		if !slices.ContainsFunc(crit, func(c Criterion) bool { return c.ID == id }) {
			return 0, inputMsg(id, "score.unknown_criterion", catalog.Args{"ID": id})
		}
	}
	total := 0.0
	for _, c := range crit {
		v, ok := items[c.ID]
		switch {
		case !ok:
			return 0, inputMsg(c.ID, "score.not_scored", catalog.Args{"Name": catalog.Text{ZH: c.NameZH, EN: fmt.Sprintf("%q (%s)", c.ID, c.NameEN)}})
		case !finite(v) || v < 0 || v > c.Max:
			return 0, inputMsg(c.ID, "score.out_of_range", catalog.Args{"Name": catalog.Text{ZH: c.NameZH, EN: fmt.Sprintf("%q (%s)", c.ID, c.NameEN)},
				"Value": fmt.Sprint(v), "Max": fmtNum(c.Max)})
		}
		total += v
	}
	return round(total, 6), nil
}

// DeadlineDays is how many working days a project may stay in state before
// it is overdue; 0 means no deadline. The zone promises administrative steps
// within one working day, so screening defaults to 1. Rectification runs on
// calendar days instead (Rating().RectificationDays) and construction on the
// months of Tracking(); their working-day deadline is normally 0.
func (rs *RuleSet) DeadlineDays(state string) int { return rs.spec.Deadlines[state] }

// Rating returns the annual per-mu rating configuration (a copy).
func (rs *RuleSet) Rating() RatingConfig {
	r := rs.spec.Rating
	r.Indicators = slices.Clone(r.Indicators)
	r.Bands = slices.Clone(r.Bands)
	return r
}

// RectificationDays is the calendar-day period of a rectification order.
func (rs *RuleSet) RectificationDays() int { return rs.spec.Rating.RectificationDays }

// Tracking returns the post-signing milestone defaults (a copy).
func (rs *RuleSet) Tracking() Tracking {
	t := rs.spec.Tracking
	t.IdleLandYears = slices.Clone(t.IdleLandYears)
	return t
}

// LeadingIndustries returns the leading-industry catalogue (a copy).
func (rs *RuleSet) LeadingIndustries() []Sector {
	out := slices.Clone(rs.spec.Leading)
	for i := range out {
		out[i].Codes = slices.Clone(out[i].Codes)
	}
	return out
}

// Metrics returns the metric definitions in file order (a copy), for
// showing how each reported number is computed.
func (rs *RuleSet) Metrics() []Metric {
	out := make([]Metric, len(rs.metrics))
	for i, m := range rs.metrics {
		out[i] = m.Metric
	}
	return out
}

// Classify finds the leading sector of a GB/T 4754 industry code by longest
// matching prefix; ok is false when the industry is not a leading one.
func (rs *RuleSet) Classify(industryCode string) (sector Sector, ok bool) {
	if i := rs.classify(strings.ToUpper(strings.TrimSpace(industryCode))); i >= 0 {
		return rs.spec.Leading[i], true
	}
	return Sector{}, false
}

func (rs *RuleSet) classify(code string) int {
	for _, p := range rs.prefixes {
		if strings.HasPrefix(code, p.code) {
			return p.sector
		}
	}
	return -1
}
