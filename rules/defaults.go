package rules

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// parks holds the default rule sets, one file per park, named <park>.yaml.
//
//go:embed parks/*.yaml
var parks embed.FS

// defaults parses every embedded file once; a RuleSet is immutable, so all
// callers can share it.
var defaults = sync.OnceValues(func() (map[string]*RuleSet, error) {
	entries, err := parks.ReadDir("parks")
	if err != nil {
		return nil, err
	}
	out := map[string]*RuleSet{}
	for _, e := range entries {
		name := e.Name()
		data, err := parks.ReadFile(path.Join("parks", name))
		if err != nil {
			return nil, err
		}
		rs, err := Parse(path.Join("rules/parks", name), data)
		if err != nil {
			return nil, err
		}
		if want := strings.TrimSuffix(name, ".yaml"); rs.Park() != want {
			return nil, fmt.Errorf("rules: %s declares park %q, want %q", name, rs.Park(), want)
		}
		out[rs.Park()] = rs
	}
	return out, nil
})

// Default returns the embedded default rule set of a park (see DefaultParks).
// The engine stores it as the park's first version on a fresh database.
func Default(park string) (*RuleSet, error) {
	all, err := defaults()
	if err != nil {
		return nil, fmt.Errorf("rules: embedded defaults: %w", err)
	}
	rs, ok := all[park]
	if !ok {
		return nil, fmt.Errorf("rules: no default rule set for park %q (have %s)", park, strings.Join(DefaultParks(), ", "))
	}
	return rs, nil
}

// DefaultParks lists the parks with an embedded default rule set, sorted.
func DefaultParks() []string {
	entries, _ := parks.ReadDir("parks")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(out)
	return out
}
