package main

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"zonevet/engine"
)

// FuzzProjectJSON feeds the command line's project-file decoder arbitrary
// bytes: what it accepts is exactly one JSON value (no trailing data), re-
// encodes and decodes to the same input, and validates to nil or an
// invalid-input error naming a field — never a panic. Seeds: the README's
// project file, trailing data, two objects, an unknown field, a number past
// float64; testdata/fuzz/FuzzProjectJSON.
func FuzzProjectJSON(f *testing.F) {
	good := `{"park":"qingyuan","name":"命令行测试项目","investor_name":"清远测试科技有限公司","uscc":"91440300708461136T",` +
		`"figures":{"industry_code":"C3985","total_investment":30000,"fixed_asset_investment":20000,"land_area":50,"floor_area":50000,` +
		`"building_coverage":48,"office_share":5,"expected_output":60000,"revenue":58000,"tax":2200,"rd_expense":2900,"energy_use":700,"employees":300}}`
	for _, s := range []string{good, good + "garbage", good + good, good + " \n", `{"park":"qingyuan","nmae":"x"}`,
		`{"figures":{"tax":1e400}}`, `{"name":"\u202e\n"}`, `[]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := decodeProjectJSON(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted %q, which is not one JSON value", data)
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", in, err)
		}
		back, err := decodeProjectJSON(again)
		if err != nil || !reflect.DeepEqual(back, in) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, in)
		}
		if err := in.Validate(); err != nil {
			var e *engine.Error
			if !errors.As(err, &e) || e.Code != engine.EINVALID || e.Field == "" {
				t.Fatalf("Validate: %T %v, want an invalid field", err, err)
			}
		}
	})
}
