package rules

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"zonevet/rules/catalog"
)

var (
	updateTexts = flag.Bool("update-texts", false, "rewrite testdata/texts/golden.txt from the current code")
	dumpTexts   = flag.String("texts-dump", "", "write the texts TestTextsUnchanged renders to this file")
)

// TestTextsUnchanged keeps the words rules renders byte for byte: a stored
// screening report is hashed and replayed (zonevet rules replay), so moving
// its wording into the catalogue must not change one byte. It renders every
// example of the default and test rule sets, each figure blank, zero,
// negative, not finite and too large in turn, every rating example's firms
// with each figure zeroed, and the figures' labels, and compares the lot with
// testdata/texts/golden.txt (-update-texts rewrites it).
func TestTextsUnchanged(t *testing.T) {
	var b strings.Builder
	put := func(what string, v any) {
		buf, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s\t%s\n", what, buf)
	}
	putErr := func(what string, err error) {
		var ie *InputError
		if errors.As(err, &ie) {
			put(what, []string{ie.Field, ie.MessageZH, ie.MessageEN})
			return
		}
		put(what, err.Error())
	}
	sets := map[string]*RuleSet{}
	for _, park := range DefaultParks() {
		sets[park] = mustDefault(t, park)
	}
	// qingyuan with the land figures optional, a blank one not applicable.
	src, err := os.ReadFile("parks/qingyuan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(src), "  land: [land_area, floor_area, building_coverage, office_share, green_ratio, land_grade, land_price]\n", "", 1)
	text = strings.Replace(text, "    energy_assessment: fail", "    energy_assessment: fail\n    land_area: not_applicable\n    floor_area: not_applicable\n"+
		"    building_coverage: not_applicable\n    office_share: not_applicable\n    green_ratio: not_applicable\n    land_grade: not_applicable\n    land_price: not_applicable", 1)
	if sets["optional"], err = Parse("optional.yaml", []byte(text)); err != nil {
		t.Fatal(err)
	}
	// qingyuan with a missing-data indicator not rated and non-filers in D.
	text = strings.Replace(string(src), "missing: zero", "missing: not_rated", 1)
	text = strings.Replace(text, "not_filed: T ", "not_filed: D ", 1)
	if sets["not_rated"], err = Parse("not_rated.yaml", []byte(text)); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/rating/*.yaml")
	files = append(files, "testdata/valid/minimal.yaml")
	for _, f := range files {
		sets[f] = mustParseFile(t, f)
	}
	for _, name := range append(FigureNames(), "industry_code", "leased_plant", "output", "value_added", "emissions") {
		zh, en := FigureLabel(name)
		put("label "+name, []string{zh, en})
	}
	for _, key := range slices.Sorted(maps.Keys(sets)) {
		rs := sets[key]
		zh, en := rs.BandConvention()
		put(key+" convention", []string{zh, en})
		assessed := scaled(good(), 3)
		assessed.EnergyAssessment = ptr(true)
		givens := []Figures{good(), scaled(good(), 0.1), scaled(good(), 3), assessed}
		firmSets := [][]FirmYear{policyFirms(), ratingFirms()}
		for _, ex := range rs.Examples() {
			givens = append(givens, ex.Given)
			if len(ex.Firms) > 0 {
				firmSets = append(firmSets, ex.Firms)
			}
		}
		for gi, given := range givens {
			for _, v := range figureVariants(given) {
				what := fmt.Sprintf("%s figures %d %s", key, gi, v.name)
				if rep, err := rs.Evaluate(v.f); err != nil {
					putErr(what, err)
				} else {
					put(what, rep)
				}
				for _, p := range FigureProblems(v.f) {
					putErr(what+" problem", p)
				}
			}
		}
		for fi, firms := range firmSets {
			for _, v := range firmVariants(firms) {
				what := fmt.Sprintf("%s firms %d %s", key, fi, v.name)
				if r, err := rs.Rate(v.firms); err != nil {
					putErr(what, err)
				} else {
					put(what, r)
				}
			}
		}
		put(key+" examples", rs.CheckExamples())
	}
	// The file keeps a hash per line, the line's name is in the code (the
	// full text is megabytes); -texts-dump writes the text to compare by hand.
	if *dumpTexts != "" {
		if err := os.WriteFile(*dumpTexts, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var hashed strings.Builder
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	for _, l := range lines {
		_, text, _ := strings.Cut(l, "\t")
		sum := sha256.Sum256([]byte(text))
		fmt.Fprintf(&hashed, "%x\n", sum[:8])
	}
	const golden = "testdata/texts/golden.txt"
	if *updateTexts {
		if err := os.WriteFile(golden, []byte(hashed.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(hashed.String(), "\n")
	wantLines := strings.Split(string(want), "\n")
	if len(got) != len(wantLines) {
		t.Errorf("%d lines rendered, golden has %d", len(got), len(wantLines))
	}
	bad := 0
	for i := range min(len(got), len(wantLines)) {
		if got[i] != wantLines[i] {
			if bad++; bad <= 5 {
				what, _, _ := strings.Cut(lines[i], "\t")
				t.Errorf("line %d differs: %s", i+1, what)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d lines differ", bad)
	}
	if len(got) < 1000 {
		t.Errorf("only %d lines rendered; the variants are broken", len(got))
	}
}

func ptr[T any](v T) *T { return &v }

type figureVariant struct {
	name string
	f    Figures
}

// figureVariants are f itself, f with a leased plant, a malformed and a
// coarse industry code, fixed-asset investment above the total, and each
// figure in turn blank, 0, negative, not finite and above its bound.
func figureVariants(f Figures) []figureVariant {
	out := []figureVariant{{"as given", f}}
	g := f
	g.LeasedPlant = !g.LeasedPlant
	out = append(out, figureVariant{"leased toggled", g})
	for _, code := range []string{"", "X99", "C05", "C33", "c3985"} {
		g := f
		g.IndustryCode = code
		out = append(out, figureVariant{"code " + code, g})
	}
	g = f
	g.FixedAssetInvestment, g.TotalInvestment = ptr(20.0), ptr(10.0)
	out = append(out, figureVariant{"fixed over total", g})
	for _, name := range FigureNames() {
		g := cloneFigures(f)
		switch {
		case g.Number(name) != nil:
			for _, v := range []float64{0, -1, math.NaN(), math.Inf(1), 1e12, 50, 101} {
				g := cloneFigures(f)
				*g.Number(name) = ptr(v)
				out = append(out, figureVariant{fmt.Sprintf("%s=%v", name, v), g})
			}
			*g.Number(name) = nil
		case g.Count(name) != nil:
			for _, v := range []int{0, -1, 16, 2000000} {
				g := cloneFigures(f)
				*g.Count(name) = ptr(v)
				out = append(out, figureVariant{fmt.Sprintf("%s=%v", name, v), g})
			}
			*g.Count(name) = nil
		default:
			for _, v := range []bool{false, true} {
				g := cloneFigures(f)
				*g.Flag(name) = ptr(v)
				out = append(out, figureVariant{fmt.Sprintf("%s=%v", name, v), g})
			}
			*g.Flag(name) = nil
		}
		out = append(out, figureVariant{name + " blank", g})
	}
	return out
}

// scaled multiplies every number of f by x (a project far below or above the thresholds).
func scaled(f Figures, x float64) Figures {
	g := cloneFigures(f)
	for _, name := range FigureNames() {
		if p := g.Number(name); p != nil && *p != nil {
			*p = ptr(**p * x)
		}
	}
	return g
}

// cloneFigures copies f so a variant's pointers do not reach into f.
func cloneFigures(f Figures) Figures {
	var g Figures
	buf, _ := json.Marshal(f)
	json.Unmarshal(buf, &g)
	g.LeasedPlant = f.LeasedPlant
	return g
}

type firmVariant struct {
	name  string
	firms []FirmYear
}

// firmVariants are the firms as given and with each numeric figure of the
// first firm zeroed, negative or not finite.
func firmVariants(firms []FirmYear) []firmVariant {
	out := []firmVariant{{"as given", firms}}
	t := reflect.TypeFor[FirmYear]()
	for i := range t.NumField() {
		k := t.Field(i).Type.Kind()
		if k != reflect.Float64 && k != reflect.Int {
			continue
		}
		for _, v := range []float64{0, -1, math.NaN()} {
			if k == reflect.Int && math.IsNaN(v) {
				continue
			}
			fs := append([]FirmYear(nil), firms...)
			fv := reflect.ValueOf(&fs[0]).Elem().Field(i)
			if k == reflect.Int {
				fv.SetInt(int64(v))
			} else {
				fv.SetFloat(v)
			}
			out = append(out, firmVariant{fmt.Sprintf("%s=%v", t.Field(i).Name, v), fs})
		}
	}
	for _, flag := range []string{"InGrace", "NotFiled", "BelowScale"} {
		fs := append([]FirmYear(nil), firms...)
		reflect.ValueOf(&fs[0]).Elem().FieldByName(flag).SetBool(true)
		out = append(out, firmVariant{flag, fs})
	}
	return out
}

// TestFigureWordsDefined: a figure's words are ids named after it
// (figureDef), which no scan of the code finds; each must be in the catalogue.
func TestFigureWordsDefined(t *testing.T) {
	c := catalog.Default()
	for _, name := range append(FigureNames(), firmFigures...) {
		ids := []string{"figure.name." + name}
		if d := figureByName[name]; d != nil {
			ids = append(ids, "figure.label."+name)
			if d.unit {
				ids = append(ids, "figure.unit."+name)
			}
		}
		for _, id := range ids {
			if !c.Has(id) {
				t.Errorf("%s is not in the catalogue", id)
			}
		}
	}
}
