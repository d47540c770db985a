package rules

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"zonevet/rules/catalog"

	"github.com/expr-lang/expr"
	exprast "github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

// figureEnv is what a metric formula sees: the numeric and yes/no fields of
// Figures under their json names. It is a struct rather than a map so expr
// type-checks formulas at Parse time (an unknown figure is a compile error)
// and evaluation builds no map per call. Employees is a float so that
// "value_added / employees" stays floating-point arithmetic.
type figureEnv struct {
	TotalInvestment      float64 `expr:"total_investment"`
	FixedAssetInvestment float64 `expr:"fixed_asset_investment"`
	LandArea             float64 `expr:"land_area"`
	FloorArea            float64 `expr:"floor_area"`
	BuildingCoverage     float64 `expr:"building_coverage"`
	OfficeShare          float64 `expr:"office_share"`
	GreenRatio           float64 `expr:"green_ratio"`
	LandGrade            float64 `expr:"land_grade"`
	LandPrice            float64 `expr:"land_price"`
	ExpectedOutput       float64 `expr:"expected_output"`
	Revenue              float64 `expr:"revenue"`
	Tax                  float64 `expr:"tax"`
	RDExpense            float64 `expr:"rd_expense"`
	EnergyUse            float64 `expr:"energy_use"`
	Electricity          float64 `expr:"electricity"`
	Employees            float64 `expr:"employees"`
	NegativeList         bool    `expr:"negative_list"`
	EcoRedLine           bool    `expr:"eco_red_line"`
	BadCredit            bool    `expr:"bad_credit"`
	EnergyAssessment     bool    `expr:"energy_assessment"`
}

// set copies f into e, a blank as 0: Evaluate never lets a metric over a
// blank figure reach a verdict (see RuleSet.Evaluate), so the 0 is only
// ever a placeholder.
func (e *figureEnv) set(f *Figures) {
	num := func(p *float64) float64 {
		if p == nil {
			return 0
		}
		return *p
	}
	count := func(p *int) float64 {
		if p == nil {
			return 0
		}
		return float64(*p)
	}
	yes := func(p *bool) bool { return p != nil && *p }
	*e = figureEnv{
		TotalInvestment:      num(f.TotalInvestment),
		FixedAssetInvestment: num(f.FixedAssetInvestment),
		LandArea:             num(f.LandArea),
		FloorArea:            num(f.FloorArea),
		BuildingCoverage:     num(f.BuildingCoverage),
		OfficeShare:          num(f.OfficeShare),
		GreenRatio:           num(f.GreenRatio),
		LandGrade:            count(f.LandGrade),
		LandPrice:            num(f.LandPrice),
		ExpectedOutput:       num(f.ExpectedOutput),
		Revenue:              num(f.Revenue),
		Tax:                  num(f.Tax),
		RDExpense:            num(f.RDExpense),
		EnergyUse:            num(f.EnergyUse),
		Electricity:          num(f.Electricity),
		Employees:            count(f.Employees),
		NegativeList:         yes(f.NegativeList),
		EcoRedLine:           yes(f.EcoRedLine),
		BadCredit:            yes(f.BadCredit),
		EnergyAssessment:     yes(f.EnergyAssessment),
	}
}

// firmEnv is what a rating indicator formula sees: one firm's annual figures.
type firmEnv struct {
	LandArea   float64 `expr:"land_area"`
	Output     float64 `expr:"output"`
	ValueAdded float64 `expr:"value_added"`
	Tax        float64 `expr:"tax"`
	RDExpense  float64 `expr:"rd_expense"`
	Revenue    float64 `expr:"revenue"`
	EnergyUse  float64 `expr:"energy_use"`
	Emissions  float64 `expr:"emissions"`
	Employees  float64 `expr:"employees"`
	// Electricity is in 万千瓦时 (rating.FirmYear.Electricity).
	Electricity float64 `expr:"electricity"`
}

func (e *firmEnv) set(f *FirmYear) {
	*e = firmEnv{
		LandArea:    f.LandArea,
		Output:      f.Output,
		ValueAdded:  f.ValueAdded,
		Tax:         f.Tax,
		RDExpense:   f.RDExpense,
		Revenue:     f.Revenue,
		EnergyUse:   f.EnergyUse,
		Emissions:   f.Emissions,
		Employees:   float64(f.Employees),
		Electricity: f.Electricity,
	}
}

// flagFigures are the yes/no Figures fields a veto or requirement may name.
var flagFigures = envFields(reflect.TypeFor[figureEnv](), reflect.Bool)

// numericFigures are the Figures fields a formula may compute with.
var numericFigures = envFields(reflect.TypeFor[figureEnv](), reflect.Float64)

func envFields(t reflect.Type, kind reflect.Kind) map[string]bool {
	m := make(map[string]bool)
	for i := range t.NumField() {
		if f := t.Field(i); f.Type.Kind() == kind {
			m[f.Tag.Get("expr")] = true
		}
	}
	return m
}

// allowedCalls are the only functions a formula may call. Everything else
// expr offers (now(), date(), strings, collections) is shut off so that a
// formula stays pure arithmetic: deterministic, cheap and readable by the
// official who edits the file.
var allowedCalls = map[string]bool{"abs": true, "ceil": true, "floor": true, "round": true, "max": true, "min": true}

// formula is a compiled metric or indicator formula.
type formula struct {
	src     string
	program *vm.Program
	refs    []string // identifiers it reads, in order of first appearance
	divs    []string // identifiers under a "/" divisor: the usual suspects when the result is NaN or Inf
	field   int      // 1 + index of the env field when the formula is just that figure, else 0
}

// compileFormula checks that src is arithmetic over the fields of env and
// compiles it to a float64-valued program. The error message is one line,
// fit for a Problem.
func compileFormula(src string, env any) (*formula, error) {
	if strings.TrimSpace(src) == "" {
		return nil, failMsg("rules.formula_empty", nil)
	}
	if len(src) > 1000 {
		return nil, failMsg("rules.formula_too_long", catalog.Args{"Max": 1000})
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, formulaError(err)
	}
	f := &formula{src: src}
	var bad error
	seen := map[string]bool{}
	exprast.Find(tree.Node, func(n exprast.Node) bool {
		if bad != nil {
			return false
		}
		switch n := n.(type) {
		case *exprast.IdentifierNode:
			if !seen[n.Value] && !allowedCalls[n.Value] {
				seen[n.Value] = true
				f.refs = append(f.refs, n.Value)
			}
		case *exprast.IntegerNode, *exprast.FloatNode, *exprast.BoolNode, *exprast.ConditionalNode:
		case *exprast.BinaryNode:
			if n.Operator == "/" {
				exprast.Find(n.Right, func(d exprast.Node) bool {
					if id, ok := d.(*exprast.IdentifierNode); ok && !slices.Contains(f.divs, id.Value) {
						f.divs = append(f.divs, id.Value)
					}
					return false
				})
			}
			switch n.Operator {
			case "+", "-", "*", "/", "**", "^", "%", "<", "<=", ">", ">=", "==", "!=", "and", "or", "&&", "||":
			default:
				bad = failMsg("rules.formula_operator", catalog.Args{"Op": n.Operator, "Calls": callList()})
			}
		case *exprast.UnaryNode:
			switch n.Operator {
			case "-", "+", "!", "not":
			default:
				bad = failMsg("rules.formula_operator", catalog.Args{"Op": n.Operator, "Calls": callList()})
			}
		case *exprast.CallNode:
			id, ok := n.Callee.(*exprast.IdentifierNode)
			if !ok || !allowedCalls[id.Value] {
				bad = failMsg("rules.formula_call", catalog.Args{"Calls": callList()})
			}
		case *exprast.BuiltinNode:
			if !allowedCalls[n.Name] {
				bad = failMsg("rules.formula_builtin", catalog.Args{"Name": n.Name, "Calls": callList()})
			}
		default:
			bad = failMsg("rules.formula_node", catalog.Args{"Node": n.String(), "Calls": callList()})
		}
		return false
	})
	if bad != nil {
		return nil, bad
	}
	opts := []expr.Option{expr.Env(env), expr.AsFloat64(), expr.DisableAllBuiltins()}
	for name := range allowedCalls {
		opts = append(opts, expr.EnableBuiltin(name))
	}
	f.program, err = expr.Compile(src, opts...)
	if err != nil {
		return nil, formulaError(err)
	}
	// Half the metrics are a figure as declared (building_coverage, revenue…);
	// reading the field skips the VM, which matters at 100,000 evaluations a second.
	if id, ok := tree.Node.(*exprast.IdentifierNode); ok {
		t := reflect.TypeOf(env).Elem()
		for i := range t.NumField() {
			if fl := t.Field(i); fl.Tag.Get("expr") == id.Value && fl.Type.Kind() == reflect.Float64 {
				f.field = i + 1
			}
		}
	}
	return f, nil
}

func callList() string { return "abs, ceil, floor, round, max, min" }

// unknownName is expr's message for a name that is not a figure.
var unknownName = regexp.MustCompile(`^unknown name (\S+)$`)

// formulaError turns expr's error into a problem message: a misspelt name
// (the common mistake) reads in either language; anything else keeps expr's
// own one-line English text.
func formulaError(err error) error {
	var fe *file.Error
	if errors.As(err, &fe) {
		if m := unknownName.FindStringSubmatch(fe.Message); m != nil {
			return failMsg("rules.formula_unknown_name", catalog.Args{"Name": m[1], "Column": fe.Column + 1})
		}
	}
	return failMsg("rules.formula_invalid", catalog.Args{"Detail": oneLine(err)})
}

// oneLine reduces expr's multi-line error (message plus a source excerpt with
// a caret) to its message and column.
func oneLine(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Column > 0 {
			return fmt.Sprintf("%s (formula column %d)", fe.Message, fe.Column+1)
		}
		return fe.Message
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// vms recycles expr virtual machines: expr.Run allocates a fresh VM and
// stack per call, which dominated the cost of an evaluation.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// run evaluates the formula against env (a *figureEnv or *firmEnv).
func (f *formula) run(m *vm.VM, env any) (float64, error) {
	if f.field > 0 {
		return reflect.ValueOf(env).Elem().Field(f.field - 1).Float(), nil
	}
	out, err := m.Run(f.program, env)
	if err != nil {
		return 0, err
	}
	switch v := out.(type) {
	case float64:
		return v, nil
	case int:
		return float64(v), nil
	}
	return math.NaN(), fmt.Errorf("formula %q returned %T", f.src, out)
}
