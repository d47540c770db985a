package rules

// ScreeningChange is how one project's screening changes between two
// reports of the same figures: the verdict (passed: no hard rule fails)
// before and after, and the checks that fail now but did not, and the
// other way round, by id.
type ScreeningChange struct {
	Before, After bool
	NewlyFailed   []string
	NewlyPassed   []string
}

// Changed says whether the verdict or any check's outcome moved.
func (c ScreeningChange) Changed() bool {
	return c.Before != c.After || len(c.NewlyFailed) > 0 || len(c.NewlyPassed) > 0
}

// CompareScreening compares the screening of the same figures under two
// rule sets. A check only one of them has counts as failing or passing
// there and "did not exist" in the other: a new hard rule that fails is
// newly failed, a removed one that failed is newly passed.
func CompareScreening(before, after *Report) ScreeningChange {
	c := ScreeningChange{Before: before.Passed(), After: after.Passed()}
	failed := func(r CheckResult) bool { return r.Applies && !r.Pass }
	was := make(map[string]bool, len(before.Checks))
	for _, r := range before.Checks {
		was[r.ID] = failed(r)
	}
	is := make(map[string]bool, len(after.Checks))
	for _, r := range after.Checks {
		f := failed(r)
		is[r.ID] = f
		if f && !was[r.ID] {
			c.NewlyFailed = append(c.NewlyFailed, r.ID)
		}
	}
	for _, r := range before.Checks {
		if failed(r) && !is[r.ID] {
			c.NewlyPassed = append(c.NewlyPassed, r.ID)
		}
	}
	return c
}

// CheckNames maps every check id of rs to its Chinese and English names,
// for reports that list checks by id.
func (rs *RuleSet) CheckNames() map[string][2]string {
	out := make(map[string][2]string, len(rs.spec.Checks))
	for _, c := range rs.spec.Checks {
		out[c.ID] = [2]string{c.NameZH, c.NameEN}
	}
	return out
}
