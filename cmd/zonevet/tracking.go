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
// (the demo has twenty projects: the CLI's end-to-end test and the README
// number the next one 21):
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
		// Firms in production signed four and a half or five years ago, past the
		// rating's grace period; the plant under construction a year and a
		// half ago; the signed project two years ago, so its unstarted land
		// shows as idle on the workbench.
		months := 60 - 6*(i%2)
		switch p.State {
		case engine.StateUnderConstruction:
			months = 18
		case engine.StateSigned:
			months = 24
		}
		signed := d.svc.Today().AddDate(0, -months, 0)
		ag.SignedOn, ag.LandDeliveredOn = signed, signed.AddDate(0, 1, 0)
		if p.Name == "广清精密模具制造项目" {
			ag.RDIntensity = 3 // the commitment its rectification is about
		}
		ag.StartBy, ag.CompleteBy, ag.ProductionBy, ag.FullProductionBy = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		ag.ReviewClause = "第五条" // the agreements' full-production clause, cited by a 达产复核 shortfall
		saved, err := d.svc.SaveAgreement(d.ctx, promoter, p.ID, *ag)
		if err != nil {
			return fmt.Errorf("agreement of %s: %w", p.Name, err)
		}
		if err := seedMilestones(d, p, saved); err != nil {
			return fmt.Errorf("milestones of %s: %w", p.Name, err)
		}
		if p.State != engine.StateInProduction && p.State != engine.StateRectification {
			continue
		}
		if p.Name == demoNotFiled {
			continue // filed nothing: class T on the rating page and the dashboard
		}
		fig := p.Figures // these projects passed screening: every figure is filled in
		land := *fig.LandArea
		tax, output, rd := *fig.Tax/land, *fig.ExpectedOutput/land, *fig.RDExpense / *fig.Revenue * 100
		if f, ok := demoPerformance[p.Name]; ok {
			tax, output = tax*f, output*f
		}
		ht := rdHighTech(rd)
		switch p.Name {
		case "广清精密模具制造项目":
			tax, rd = 26, 1.1
		case "五金冲压件扩产项目":
			rd = 0.9 // and tax below the floor: D, and rectification on two counts
		}
		rev := output * land * 0.96
		va := output * land * 0.26
		perTce, perTonne := 3.0, 1000.0 // value added per tce and per tonne of emissions: the park's benchmarks
		if e, ok := demoEnergy[p.Name]; ok {
			perTce, perTonne = e[0], e[1]
		}
		emissions := va / perTonne
		if perTonne == 0 {
			emissions = 0 // not reported: the indicator's missing-data policy applies
		}
		af := engine.AnnualFigures{Year: year, Revenue: rev, Output: output * land, ValueAdded: va,
			Tax: tax * land, RDExpense: rev * rd / 100, EnergyUse: va / perTce, Emissions: emissions,
			Employees: int(land * 6), HighTech: ht, AboveScale: true}
		if err := d.svc.SaveFigures(d.ctx, promoter, p.ID, af); err != nil {
			return fmt.Errorf("figures of %s: %w", p.Name, err)
		}
	}
	if err := seedLandUsers(d, year); err != nil {
		return err
	}
	run, err := d.svc.RunRating(d.ctx, committee, "qingyuan", year)
	if err != nil {
		return fmt.Errorf("demo rating run: %w", err)
	}
	// Published for objections (公示): its measures follow when the
	// committee makes it final after the period.
	if _, err := d.svc.PublishRun(d.ctx, committee, run.ID); err != nil {
		return fmt.Errorf("demo rating publicity: %w", err)
	}
	return seedCommitments(d) // cmd/zonevet/demo_commitments.go
}

func rdHighTech(rd float64) bool { return rd >= 3 }

// demoNotFiled filed no annual figures last year: the rating lists it as
// class T (not rated) with the reason, and the dashboard counts it.
const demoNotFiled = "伺服电机及驱动器项目"

// demoEnergy is each firm's value added per tce of energy and per tonne of
// emissions (万元), against the park's benchmarks of 3 and 1000, so that
// the energy indicator separates the firms (copper foil and plastics are
// energy-hungry, diagnostics reagents are not); 0 per tonne means the firm
// reported no emissions and gets the average emissions score of the others.
var demoEnergy = map[string][2]float64{
	"特种工程塑料改性项目": {1.8, 900},
	"片式电感元件项目":   {3.6, 1300},
	"体外诊断试剂生产项目": {5.2, 0},
	"五金冲压件扩产项目":  {1.4, 600},
	"高性能电子铜箔项目":  {1.2, 700},
	"广清精密模具制造项目": {2.6, 1100},
}

// demoPerformance is what a firm actually achieved last year as a share of
// the output and tax it promised; firms not listed kept their promise.
var demoPerformance = map[string]float64{
	"特种工程塑料改性项目": 1.15,
	"伺服电机及驱动器项目": 0.95,
	"片式电感元件项目":   0.8,
	"体外诊断试剂生产项目": 0.65,
	"五金冲压件扩产项目":  0.12,
}

// seedMilestones dates the milestones the demo's lifecycle steps recorded
// (they were played a few weeks ago) by the agreement signed years ago, as
// a promoter enters them from the completion filings: on time, except the
// full production of the firm in rectification, which is still overdue.
func seedMilestones(d *demo, p *engine.Project, ag *engine.Agreement) error {
	start := ag.LandDeliveredOn.AddDate(0, 4, 0)
	done := map[string]time.Time{engine.MilestoneStart: start}
	if p.State == engine.StateInProduction || p.State == engine.StateRectification {
		done[engine.MilestoneCompletion] = start.AddDate(0, 20, 0)
		done[engine.MilestoneProduction] = start.AddDate(0, 21, 0)
		if p.State == engine.StateInProduction {
			done[engine.MilestoneFullProduction] = start.AddDate(0, 30, 0)
		}
	} else if p.State != engine.StateUnderConstruction {
		return nil
	}
	evidence := map[string]string{engine.MilestoneStart: "据施工许可证", engine.MilestoneCompletion: "据竣工验收备案",
		engine.MilestoneProduction: "据投产报告", engine.MilestoneFullProduction: "据达产核验"}
	for _, kind := range engine.MilestoneKinds {
		if on, ok := done[kind]; ok {
			m := engine.Milestone{Kind: kind, DoneOn: on, Note: evidence[kind]}
			if err := d.svc.RecordMilestone(d.ctx, d.users["promoter1"], p.ID, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedLandUsers imports two of qingyuan's existing industrial land users
// (not projects of this system), rated with the projects: an above-scale
// plant granted land in 2012, and a small firm below designated size rated
// on the below-scale method (tax per mu and per kWh).
func seedLandUsers(d *demo, year int) error {
	granted := time.Date(2012, 7, 1, 0, 0, 0, 0, time.UTC)
	rows := []engine.LandUserRow{
		{Row: 2, USCC: uscc("91441800MA4LU001"), Name: "清远市华南陶瓷机械有限公司", LandArea: 40, GrantedOn: granted,
			Figures: engine.AnnualFigures{Revenue: 28000, Output: 30000, ValueAdded: 7500, Tax: 1100, RDExpense: 700, EnergyUse: 2900,
				Emissions: 9, Employees: 260, AboveScale: true}},
		{Row: 3, USCC: uscc("91441800MA4LU002"), Name: "清远市顺达包装制品厂", LandArea: 8, GrantedOn: granted.AddDate(3, 0, 0),
			Figures: engine.AnnualFigures{Revenue: 1500, Output: 1600, ValueAdded: 380, Tax: 96, RDExpense: 10, EnergyUse: 150,
				Emissions: 0.6, Employees: 35, Electricity: 180}},
	}
	_, err := d.svc.ImportLandUsers(d.ctx, d.users["promoter1"], engine.LandUserImport{Park: "qingyuan", Year: year, Rows: rows, FileName: "存量用地企业.xlsx"})
	if err != nil {
		return fmt.Errorf("demo land users: %w", err)
	}
	return nil
}
