package main

import (
	"fmt"
	"time"

	"zonevet/engine"
)

// demoClauses: the demo's exit invokes the land buy-back clause, as the
// reason written for it says.
func demoClauses(event string) []string {
	if event == engine.EventExit {
		return []string{engine.ClauseBuyBack}
	}
	return nil
}

// seedTracking gives the demo's signed projects their after-signature life
// (the demo keeps its fifteen projects: the CLI's end-to-end test and the
// README number the next one 16):
// agreements signed years ago (so firms are past the rating's grace
// period), last year's annual figures, and a rating run by the committee,
// all through the engine like everything else in the demo.
func seedTracking(d *demo) error {
	promoter, committee := d.users["promoter1"], d.users["committee1"]
	ps, _, err := d.svc.Projects(d.ctx, promoter, engine.ProjectFilter{Parks: []string{"qingyuan"},
		States: []engine.State{engine.StateSigned, engine.StateUnderConstruction, engine.StateInProduction, engine.StateRectification}, Sort: "id"})
	if err != nil {
		return err
	}
	year := d.svc.Today().Year() - 1
	for i, p := range ps {
		ag, err := d.svc.AgreementDefaults(d.ctx, promoter, p.ID)
		if err != nil {
			return err
		}
		// Signed between two and five years ago; a signed project whose
		// start is 14 months overdue shows idle land on the workbench.
		years := 5 - i%4
		if p.State == engine.StateSigned {
			years = 2
		}
		signed := d.svc.Today().AddDate(-years, -(i % 5), 0)
		ag.SignedOn, ag.LandDeliveredOn = signed, signed.AddDate(0, 1, 0)
		if p.Name == "广清精密模具制造项目" {
			ag.RDIntensity = 3 // the commitment its rectification is about
		}
		ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if _, err := d.svc.SaveAgreement(d.ctx, promoter, p.ID, *ag); err != nil {
			return fmt.Errorf("agreement of %s: %w", p.Name, err)
		}
		if p.State != engine.StateInProduction && p.State != engine.StateRectification {
			continue
		}
		fig := p.Figures
		land := fig.LandArea
		tax, output, rd, ht := fig.Tax/land, fig.ExpectedOutput/land, fig.RDExpense/fig.Revenue*100, rdHighTech(fig.RDExpense/fig.Revenue*100)
		if p.Name == "广清精密模具制造项目" {
			tax, rd = 26, 1.1
		}
		rev := output * land * 0.96
		af := engine.AnnualFigures{Year: year, Revenue: rev, Output: output * land, ValueAdded: output * land * 0.26,
			Tax: tax * land, RDExpense: rev * rd / 100, EnergyUse: output * land * 0.011, Emissions: output * land / 10000 * 1.8,
			Employees: int(land * 6), HighTech: ht, AboveScale: true}
		if err := d.svc.SaveFigures(d.ctx, promoter, p.ID, af); err != nil {
			return fmt.Errorf("figures of %s: %w", p.Name, err)
		}
	}
	if _, err := d.svc.RunRating(d.ctx, committee, "qingyuan", year); err != nil {
		return fmt.Errorf("demo rating run: %w", err)
	}
	return nil
}

func rdHighTech(rd float64) bool { return rd >= 3 }
