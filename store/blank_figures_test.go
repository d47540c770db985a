package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"zonevet/store"
)

// TestMigrationBlanksOldDraftZeros: 00100 turns the zeros and "no"s the old
// form stored for empty inputs back into blanks in projects still being
// written (draft, returned), so an unanswered declaration is no longer "no"
// and an empty office share no longer 0 %; a project past screening keeps
// its figures, which its report and log entries were made on. Both still load.
func TestMigrationBlanksOldDraftZeros(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "zonevet.db")
	raw, err := store.OpenAtVersion(ctx, path, 40)
	if err != nil {
		t.Fatal(err)
	}
	old := `{"industry_code":"C3985","total_investment":30000,"fixed_asset_investment":20000,"land_area":50,"floor_area":0,` +
		`"building_coverage":48,"office_share":0,"expected_output":60000,"revenue":58000,"tax":2200,"rd_expense":2900,` +
		`"energy_use":0,"employees":0,"negative_list":false,"eco_red_line":false,"bad_credit":true,"energy_assessment":false}`
	for _, q := range []string{
		`INSERT INTO parks (id, name_zh) VALUES ('qingyuan', '清远')`,
		`INSERT INTO projects (id, park, name, figures, industry_code, state, version, created_at, updated_at)
		 VALUES (1, 'qingyuan', 'draft', '` + old + `', 'C3985', 'draft', 1, '2025-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z')`,
		`INSERT INTO projects (id, park, name, figures, industry_code, state, version, created_at, updated_at)
		 VALUES (2, 'qingyuan', 'screened', '` + old + `', 'C3985', 'expert_review', 3, '2025-01-01T00:00:00.000000000Z', '2025-01-01T00:00:00.000000000Z')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db := mustOpenPath(t, path)
	draft, err := db.Project(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	f := draft.Figures
	if f.OfficeShare != nil || f.FloorArea != nil || f.EnergyUse != nil || f.NegativeList != nil || f.EcoRedLine != nil || f.EnergyAssessment != nil {
		t.Errorf("draft zeros and noes not blanked: %+v", f)
	}
	if f.TotalInvestment == nil || *f.TotalInvestment != 30000 || f.BadCredit == nil || !*f.BadCredit {
		t.Errorf("draft answers lost: %+v", f)
	}
	screened, err := db.Project(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if g := screened.Figures; g.OfficeShare == nil || *g.OfficeShare != 0 || g.NegativeList == nil || *g.NegativeList {
		t.Errorf("screened project's figures changed: %+v", g)
	}
}
