package main

import (
	"encoding/json"
	"fmt"
	"os"

	"zonevet/rules"
)

func main() {
	for _, p := range rules.DefaultParks() {
		rs, err := rules.Default(p)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		f := rules.Figures{IndustryCode: "C3985", TotalInvestment: new(60000.0), FixedAssetInvestment: new(40000.0), LandArea: new(50.0),
			FloorArea: new(40000.0), BuildingCoverage: new(40.0), OfficeShare: new(7.0), GreenRatio: new(15.0), LandGrade: new(10), LandPrice: new(11.2),
			ExpectedOutput: new(120000.0), Revenue: new(110000.0), Tax: new(4000.0), RDExpense: new(3300.0), EnergyUse: new(500.0), Electricity: new(500.0),
			NegativeList: new(false), EcoRedLine: new(false), BadCredit: new(false)}
		rep, err := rs.Evaluate(f)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		for _, c := range rep.Checks {
			fmt.Println(c.ID, c.Pass, c.Applies, c.Threshold, "|", c.MessageZH, "|", c.MessageEN)
		}
		fmt.Println(rs.Incomplete(rules.Figures{LeasedPlant: true}))
		f.LeasedPlant = true
		rep, _ = rs.Evaluate(f)
		b, _ := json.Marshal(rep.Checks[8])
		fmt.Println(string(b))
		break
	}
}
