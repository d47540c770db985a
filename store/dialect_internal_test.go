package store

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE a = ? AND b IN (?, ?)`, `SELECT a FROM t WHERE a = $1 AND b IN ($2, $3)`},
		{`SELECT '?' || ? FROM "q?" WHERE x = ?`, `SELECT '?' || $1 FROM "q?" WHERE x = $2`},
		{`SELECT 'it''s ?', ? -- what?` + "\n" + `, ?`, `SELECT 'it''s ?', $1 -- what?` + "\n" + `, $2`},
		{`LIKE ? ESCAPE '\'`, `LIKE $1 ESCAPE '\'`},
	} {
		if got := dollarPlaceholders(tc.in); got != tc.want {
			t.Errorf("dollarPlaceholders(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFlagValue(t *testing.T) {
	for in, want := range map[any]any{true: int64(1), false: int64(0), "x": "x", int64(7): int64(7)} {
		if got := flagValue(in); got != want {
			t.Errorf("flagValue(%v) = %v, want %v", in, got, want)
		}
	}
}
