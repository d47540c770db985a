package store

import (
	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// v1Semantics makes decodeStored decode exactly as encoding/json does
// (case-insensitive names, duplicate names allowed, invalid UTF-8 replaced).
var v1Semantics = jsonv1.DefaultOptionsV1()

// decodeStored decodes JSON read on the decision path (a project's figures
// and ~7 KB screening report, a score's items, the calendar) with
// go-json-experiment/json, the implementation behind Go's encoding/json/v2,
// under encoding/json's semantics: the same values for a quarter of the CPU
// (the report: 153 µs → 44 µs, 163 → 54 allocations). Decoding the report
// was a tenth of an act's CPU (BENCHMARKS.md, issue 16). Encoding stays with
// encoding/json: stored bytes and answers are unchanged.
func decodeStored(data string, v any) error {
	return jsonv2.Unmarshal([]byte(data), v, v1Semantics)
}
