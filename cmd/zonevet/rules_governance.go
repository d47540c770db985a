package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"zonevet/engine"
	"zonevet/rules"
)

// rulesGovernance are the `rules` subcommands of issue 12: rule-set
// changes under four eyes, what-if, diff and the replay of a screening.
var rulesGovernance = map[string]func(context.Context, []string, io.Writer) error{
	"propose":  runRulesPropose,
	"approve":  runRulesDecide,
	"refuse":   runRulesDecide,
	"withdraw": runRulesDecide,
	"versions": runRulesVersions,
	"whatif":   runRulesWhatIf,
	"diff":     runRulesDiff,
	"replay":   runRulesReplay,
}

// runRulesPropose: rules propose FILE --as ADMIN --note TEXT.
func runRulesPropose(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules propose")
	as := fs.String("as", "", "the administrator proposing (logged)")
	note := fs.String("note", "", "the change note (required)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("rules propose: name one rule-set file")
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	return withApp(ctx, *db, func(a *app) error {
		u, err := actingUser(ctx, a, *as)
		if err != nil {
			return err
		}
		rs, err := rules.Parse(pos[0], data)
		if err != nil {
			printParseError(out, err)
			return exitError{code: 1, msg: "rules propose: the file has errors"}
		}
		c, err := a.svc.ProposeRuleSet(ctx, u, rs.Park(), pos[0], data, *note)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "proposal #%d, park %s, version %s, proposed by %s\n", c.ID, c.Park, c.Version, c.ProposedBy)
		printDiff(out, c.Diff)
		fmt.Fprintln(out, "waiting for the committee: rules whatif, then rules approve VERSION --as USER (someone else)")
		return nil
	})
}

func printDiff(out io.Writer, d []rules.DiffItem) {
	if len(d) == 0 {
		fmt.Fprintln(out, "  (规则内容无变化)")
	}
	for i, it := range d {
		fmt.Fprintf(out, "  %d. %s\n", i+1, engine.EscapeText(it.TextZH))
	}
}

// runRulesDecide: rules approve VERSION --as USER [--effective 2027-01-01],
// rules refuse VERSION --as USER --reason TEXT, rules withdraw VERSION --as USER.
func runRulesDecide(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules " + args[0])
	as := fs.String("as", "", "the member of the committee (approve, refuse) or administrator (withdraw) acting (logged)")
	effective := fs.String("effective", "", "approve: when the version takes effect, YYYY-MM-DD or YYYY-MM-DDTHH:MM in the zone's time (default now)")
	reason := fs.String("reason", "", "refuse: the reason (required); approve: the opinion")
	whatif := fs.Int64("whatif", 0, "approve: the what-if report read (default the newest for the version)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("rules %s: name one version (its first 8 or more hex digits)", args[0])
	}
	return withApp(ctx, *db, func(a *app) error {
		u, err := actingUser(ctx, a, *as)
		if err != nil {
			return err
		}
		c, err := a.svc.FindRuleSetChange(ctx, u, pos[0])
		if err != nil {
			return err
		}
		switch args[0] {
		case "approve":
			in := engine.ApproveInput{WhatIfID: *whatif, Opinion: *reason}
			if *effective != "" {
				t, err := time.ParseInLocation("2006-01-02T15:04", *effective, a.svc.Location())
				if err != nil {
					if t, err = time.ParseInLocation(time.DateOnly, *effective, a.svc.Location()); err != nil {
						return fmt.Errorf("rules approve: --effective %q: want YYYY-MM-DD or YYYY-MM-DDTHH:MM", *effective)
					}
				}
				in.Effective = t
			}
			c, err = a.svc.ApproveRuleSet(ctx, u, c.ID, in)
		case "refuse":
			c, err = a.svc.RefuseRuleSet(ctx, u, c.ID, *reason)
		case "withdraw":
			c, err = a.svc.WithdrawRuleSet(ctx, u, c.ID, *reason)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "proposal #%d, version %s: %s", c.ID, c.Version, engine.RuleSetStateLabel(c.Shown, "en"))
		if !c.EffectiveAt.IsZero() {
			fmt.Fprintf(out, ", effective %s", c.EffectiveAt.In(a.svc.Location()).Format("2006-01-02 15:04 MST"))
		}
		fmt.Fprintln(out)
		return nil
	})
}

// runRulesVersions: rules versions --park P, the pipeline newest first.
func runRulesVersions(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules versions")
	park := fs.String("park", "", "park id")
	if _, err := parseInterspersed(fs, args[1:]); err != nil {
		return err
	}
	if *park == "" {
		return errors.New("rules versions: name the park with --park")
	}
	return withApp(ctx, *db, func(a *app) error {
		cs, err := a.svc.RuleSetPipeline(ctx, *park)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "#\tSTATE\tVERSION\tPROPOSED BY\tAT\tDECIDED BY\tEFFECTIVE\tNOTE")
		loc := a.svc.Location()
		for _, c := range cs {
			eff := ""
			if !c.EffectiveAt.IsZero() {
				eff = c.EffectiveAt.In(loc).Format("2006-01-02 15:04")
			}
			fmt.Fprintf(tw, "%d\t%s\t%.16s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Shown, c.Version, c.ProposedBy, c.ProposedAt.In(loc).Format("2006-01-02 15:04"),
				c.DecidedBy, eff, engine.EscapeText(c.Note))
		}
		return tw.Flush()
	})
}

// runRulesWhatIf: rules whatif --park P FILE|VERSION [--as USER] [--xlsx OUT] [--json].
// A stored proposal's what-if with --as is generated, stored and logged (what
// an approval needs); a file's with --as is logged, not stored; without --as
// it is computed and printed only.
func runRulesWhatIf(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules whatif")
	park := fs.String("park", "", "park id")
	as := fs.String("as", "", "generate and store the report of a proposal as this user (logged)")
	xlsx := fs.String("xlsx", "", "also write the report as an Excel workbook to this file")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("rules whatif: name one rule-set file or proposed version")
	}
	return withApp(ctx, *db, func(a *app) error {
		var rep *engine.WhatIfReport
		sha := ""
		if data, err := os.ReadFile(pos[0]); err == nil {
			draft, err := rules.Parse(pos[0], data)
			if err != nil {
				printParseError(out, err)
				return exitError{code: 1, msg: "rules whatif: the file has errors"}
			}
			if *park != "" && draft.Park() != *park {
				return fmt.Errorf("rules whatif: the file is for park %s, not %s", draft.Park(), *park)
			}
			if *as != "" {
				u, err := actingUser(ctx, a, *as)
				if err != nil {
					return err
				}
				rep, sha, err = a.svc.WhatIf(ctx, u, draft)
				if err != nil {
					return err
				}
			} else if rep, err = a.svc.WhatIfOperator(ctx, draft); err != nil {
				return err
			}
		} else {
			op := &engine.User{Username: "operator@cli"}
			var u *engine.User
			if *as != "" {
				if u, err = actingUser(ctx, a, *as); err != nil {
					return err
				}
			}
			finder := u
			if finder == nil {
				finder = op
			}
			c, err := findChangeAsOperator(ctx, a, finder, *park, pos[0])
			if err != nil {
				return err
			}
			if u != nil {
				var rec *engine.WhatIfRecord
				if rep, rec, err = a.svc.GenerateWhatIf(ctx, u, c.ID); err != nil {
					return err
				}
				sha = rec.SHA256
			} else {
				draft, err := a.svc.RuleSetVersion(ctx, c.Version)
				if err != nil {
					return err
				}
				if rep, err = a.svc.WhatIfOperator(ctx, draft); err != nil {
					return err
				}
			}
		}
		if *xlsx != "" {
			body, err := rep.XLSX(sha)
			if err != nil {
				return err
			}
			if err := os.WriteFile(*xlsx, body, 0o644); err != nil {
				return err
			}
		}
		if *asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		}
		printWhatIf(out, rep, sha)
		return nil
	})
}

// findChangeAsOperator finds a park's newest change of a version prefix.
func findChangeAsOperator(ctx context.Context, a *app, _ *engine.User, park, version string) (*engine.RuleSetChange, error) {
	if park == "" {
		return nil, errors.New("rules whatif: name the park with --park")
	}
	cs, err := a.svc.RuleSetPipeline(ctx, park)
	if err != nil {
		return nil, err
	}
	for i := range cs {
		if len(version) >= 8 && strings.HasPrefix(cs[i].Version, version) {
			return &cs[i], nil
		}
	}
	return nil, fmt.Errorf("rules whatif: %s is neither a file nor a version of park %s", version, park)
}

func printWhatIf(out io.Writer, rep *engine.WhatIfReport, sha string) {
	fmt.Fprintf(out, "what-if, park %s: version %.16s against %.16s in force\n", rep.Park, rep.Version, rep.BaseVersion)
	if sha != "" {
		fmt.Fprintf(out, "report stored, SHA-256 %s\n", sha)
	}
	fmt.Fprintf(out, "changes (%d):\n", len(rep.Diff))
	printDiff(out, rep.Diff)
	s := rep.Screening
	fmt.Fprintf(out, "screening replay: %d projects, %d change, %d pass → fail, %d fail → pass\n", s.Total, s.Changed, s.PassToFail, s.FailToPass)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  STATE\tPROJECTS\tCHANGED\tPASS→FAIL\tFAIL→PASS")
	for _, st := range s.ByState {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\n", st.State, st.Total, st.Changed, st.PassToFail, st.FailToPass)
	}
	tw.Flush()
	for _, p := range s.Projects {
		open := ""
		if p.Open {
			open = " (open)"
		}
		fmt.Fprintf(out, "  #%d %s [%s%s]: %s → %s; newly failing %s; no longer failing %s\n", p.ID, engine.EscapeText(p.Name), p.State, open,
			verdict(p.Before), verdict(p.After), orNone(p.NewlyFailed), orNone(p.NewlyPassed))
	}
	if r := rep.Rating; r != nil {
		fmt.Fprintf(out, "rating replay, run #%d of %d: %d firms, %d change class\n", r.RunID, r.Year, r.Firms, len(r.Changes))
		for _, cl := range rep.RatingClasses() {
			if r.Before[cl]+r.After[cl] > 0 {
				fmt.Fprintf(out, "  %s: %d → %d\n", cl, r.Before[cl], r.After[cl])
			}
		}
		for _, c := range r.Changes {
			fmt.Fprintf(out, "  #%d %s: %s → %s\n", c.ProjectID, engine.EscapeText(c.Name), c.Before, c.After)
		}
	} else {
		fmt.Fprintln(out, "rating replay: no rating run in this park")
	}
	for _, set := range []struct {
		name string
		rs   []rules.ExampleResult
	}{{"the draft's examples", rep.Examples}, {"examples of the version in force, under the draft", rep.BaseExamples}} {
		if len(set.rs) == 0 {
			continue
		}
		fmt.Fprintf(out, "%s:\n", set.name)
		for _, r := range set.rs {
			fmt.Fprintf(out, "  %s %s %s\n", okMark(r.OK), r.ID, engine.EscapeText(strings.Join(r.FailEN, "; ")))
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

func okMark(ok bool) string {
	if ok {
		return "ok  "
	}
	return "FAIL"
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "-"
	}
	return strings.Join(xs, ",")
}

// runRulesDiff: rules diff FROM TO (stored versions or files), in Chinese.
func runRulesDiff(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules diff")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return errors.New("rules diff: name two versions or files, older first")
	}
	load := func(a *app, x string) (*rules.RuleSet, error) {
		if data, err := os.ReadFile(x); err == nil {
			return rules.Parse(x, data)
		}
		if a == nil {
			return nil, fmt.Errorf("rules diff: %s is not a file", x)
		}
		return a.svc.RuleSetVersion(ctx, x)
	}
	run := func(a *app) error {
		from, err := load(a, pos[0])
		if err != nil {
			return err
		}
		to, err := load(a, pos[1])
		if err != nil {
			return err
		}
		printDiff(out, rules.Diff(from, to))
		return nil
	}
	if _, err := os.Stat(*db); err != nil {
		return run(nil)
	}
	return withApp(ctx, *db, run)
}

// runRulesReplay: rules replay PROJECT — an auditor's check that the
// project's stored screening is reproduced byte for byte.
func runRulesReplay(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("rules replay")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("rules replay: name one project id")
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil {
		return fmt.Errorf("rules replay: %q is not a project id", pos[0])
	}
	return withApp(ctx, *db, func(a *app) error {
		r, err := a.svc.ReplayStoredScreening(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "project %d, submit entry #%d, rule set %s\n", r.ProjectID, r.Seq, r.RuleSetVersion)
		fmt.Fprintf(out, "stored   SHA-256 %s\nreplayed SHA-256 %s\n", r.StoredSHA256, r.ReplaySHA256)
		if !r.Same {
			return exitError{code: 2, msg: fmt.Sprintf("replay differs from the stored screening at byte %d", r.FirstDiff)}
		}
		fmt.Fprintln(out, "reproduced byte for byte")
		return nil
	})
}
