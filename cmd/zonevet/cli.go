package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
	"zonevet/rules"
)

// parseInterspersed parses fs over args allowing flags after positional
// arguments ("project act 7 pass --as reviewer1"), returning the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlags(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	db := fs.String("db", defaultDB(), "SQLite database file, or a postgres:// URL")
	return fs, db
}

// withApp opens the database, runs fn and closes it.
func withApp(ctx context.Context, dbPath string, fn func(*app) error) error {
	a, err := openApp(ctx, dbPath)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

func runInit(ctx context.Context, args []string, out io.Writer) error {
	fs, db := newFlags("init")
	demo := fs.Bool("demo", false, "add demo accounts and projects")
	docs := docsFlag(fs)
	cryptoName := fs.String("crypto", "", `the decision log's crypto suite, chosen once for a new database: "ed25519" (SHA-256 and Ed25519, the default) or "sm" (国密: SM3 and SM2, GB/T 39786)`)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	var suite *tlog.Suite
	if *cryptoName != "" {
		s, err := tlog.SuiteByName(*cryptoName)
		if err != nil {
			return err
		}
		suite = s
	}
	a, err := openAppSuite(ctx, *db, suite)
	if err != nil {
		return err
	}
	defer a.close()
	return func(a *app) error {
		if *demo {
			if !a.fresh {
				return fmt.Errorf("%s already exists: demo data goes into a new database only", *db)
			}
			if err := seedDemo(ctx, a, docsDir(*docs, *db)); err != nil {
				// Leave no half-seeded database behind that a second try would refuse.
				a.close()
				for _, suffix := range []string{"", "-wal", "-shm"} {
					os.Remove(*db + suffix)
				}
				return err
			}
			fmt.Fprintf(out, "demo accounts (password %q): ", demoPassword)
			for _, u := range demoUsers {
				fmt.Fprint(out, u.name, " ")
			}
			fmt.Fprintln(out)
		}
		parks, err := a.db.Parks(ctx)
		if err != nil {
			return err
		}
		for _, p := range parks {
			rs, err := a.svc.ActiveRuleSet(ctx, p.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "park %s (%s): rule set %s\n", p.ID, engine.EscapeText(p.NameZH), rs.Version()[:12])
		}
		fmt.Fprintf(out, "decision log crypto suite: %s\n", a.db.LogSuite().Name)
		fmt.Fprintf(out, "database ready: %s\n", *db)
		return nil
	}(a)
}

func runRules(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("rules: check, eval, show, propose, approve, refuse, withdraw, versions, whatif, diff or replay")
	}
	switch args[0] {
	case "check":
		fs := flag.NewFlagSet("rules check", flag.ContinueOnError)
		files, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return errors.New("rules check: name at least one file")
		}
		bad := 0
		for i, f := range files {
			// main's context ends on SIGTERM or Ctrl-C, which then no longer
			// kill the process: stop between files.
			if ctx.Err() != nil {
				return exitError{code: 1, msg: fmt.Sprintf("rules check: interrupted after %d of %d files", i, len(files))}
			}
			data, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			rs, err := rules.Parse(f, data)
			if err != nil {
				printParseError(out, err)
				bad++
				continue
			}
			// The file's own examples must hold too (a proposal with a failing one is refused).
			failed := 0
			for _, r := range rs.CheckExamples() {
				if !r.OK {
					failed++
					fmt.Fprintf(out, "%s: example %s fails: %s\n", engine.EscapeText(f), r.ID, engine.EscapeText(strings.Join(r.FailEN, "; ")))
				}
			}
			if failed > 0 {
				bad++
				continue
			}
			fmt.Fprintf(out, "%s: ok, park %s, version %s, %d examples hold\n", engine.EscapeText(f), rs.Park(), rs.Version(), len(rs.Examples()))
		}
		if bad > 0 {
			return exitError{code: 1, msg: fmt.Sprintf("%d of %d rule-set files have errors", bad, len(files))}
		}
		return nil
	case "eval":
		fs, db := newFlags("rules eval")
		park := fs.String("park", "", "park id")
		asJSON := fs.Bool("json", false, "print the report as JSON")
		file := fs.String("rules", "", "evaluate under this rule-set file instead of the park's active one")
		pos, err := parseInterspersed(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return errors.New("rules eval: name one project JSON file")
		}
		in, err := readProjectInput(pos[0])
		if err != nil {
			return err
		}
		if *park == "" {
			*park = in.Park
		}
		rs, err := ruleSetFor(ctx, *db, *park, *file)
		if err != nil {
			return err
		}
		rep, err := rs.Evaluate(in.Figures)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(out, rep)
		}
		printReport(out, rep)
		if missing := rs.Incomplete(in.Figures); len(missing) > 0 {
			fmt.Fprintf(out, "incomplete: submit would be refused until these are filled in: %s\n", strings.Join(missing, ", "))
		}
		return nil
	case "show":
		fs, db := newFlags("rules show")
		park := fs.String("park", "", "park id")
		if _, err := parseInterspersed(fs, args[1:]); err != nil {
			return err
		}
		return withApp(ctx, *db, func(a *app) error {
			rs, err := a.svc.ActiveRuleSet(ctx, *park)
			if err != nil {
				return err
			}
			_, err = out.Write(rs.Source())
			return err
		})
	}
	if run, ok := rulesGovernance[args[0]]; ok {
		return run(ctx, args, out)
	}
	return fmt.Errorf("rules: unknown command %q", args[0])
}

// ruleSetFor picks the rule set to evaluate under: an explicit file, else the
// park's active set in an existing database, else the embedded default.
func ruleSetFor(ctx context.Context, dbPath, park, file string) (*rules.RuleSet, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		return rules.Parse(file, data)
	}
	if _, err := os.Stat(dbPath); err == nil {
		var rs *rules.RuleSet
		err := withApp(ctx, dbPath, func(a *app) (err error) {
			rs, err = a.svc.ActiveRuleSet(ctx, park)
			return err
		})
		return rs, err
	}
	return rules.Default(park)
}

func readProjectInput(path string) (engine.ProjectInput, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return engine.ProjectInput{}, err
	}
	in, err := decodeProjectJSON(data)
	if err != nil {
		return in, fmt.Errorf("%s: %w", engine.EscapeText(path), err)
	}
	return in, nil
}

// decodeProjectJSON reads one project object strictly: an unknown field is
// an error (a typo must not vanish), and so is anything after the object
// (two objects, or a half-pasted second one, are not one project).
func decodeProjectJSON(data []byte) (engine.ProjectInput, error) {
	var in engine.ProjectInput
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return in, errors.New("more than one JSON value: the file must hold one project object")
	}
	return in, nil
}

func printReport(out io.Writer, rep *rules.Report) {
	fmt.Fprintf(out, "park %s, rule set %s\n", rep.Park, rep.RuleSetVersion)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tcheck\tactual\tthreshold\tseverity\tmessage")
	for _, c := range rep.Checks {
		mark := "PASS"
		if !c.Pass {
			mark = "FAIL"
		}
		if !c.Applies {
			mark = "n/a"
		}
		actual, severity := strconv.FormatFloat(c.Actual, 'f', 2, 64), string(c.Severity)
		if c.NotReported {
			actual = "未填报"
		}
		if c.Veto {
			severity = "veto"
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s %s\t%s\t%s\t%s\n", mark, c.ID, engine.EscapeText(c.NameZH), actual, engine.EscapeText(c.Unit), engine.EscapeText(c.Threshold), severity, engine.EscapeText(c.MessageZH))
	}
	tw.Flush()
	verdict := "hard rules passed"
	if !rep.Passed() {
		verdict = fmt.Sprintf("%d hard rule(s) FAILED", rep.HardFailures)
	}
	fmt.Fprintf(out, "%s; %d soft warning(s)\n", verdict, rep.SoftFailures)
}

// printParseError prints a rule file's problems one to a line, escaped: a
// problem can quote the file's own text.
func printParseError(out io.Writer, err error) {
	var ve *rules.ValidationError
	if !errors.As(err, &ve) {
		fmt.Fprintln(out, engine.EscapeText(err.Error()))
		return
	}
	for _, p := range ve.Problems {
		fmt.Fprintln(out, engine.EscapeText(ve.File)+": "+engine.EscapeText(p.String()))
	}
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func runUser(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: add, list, roles, disable, enable or passwd")
	}
	fs, db := newFlags("user " + args[0])
	password := fs.String("password", "", "add, passwd: the password (at least 8 characters)")
	roleList := fs.String("role", "", "add: roles as ROLE@PARK, comma-separated; roles: ROLE,ROLE (empty: none)")
	park := fs.String("park", "", "roles: the park whose roles are replaced")
	display := fs.String("display", "", "add: display name")
	department := fs.String("department", "", "add: the zone department of other bureaus' staff (自然资源局 …), whom projects can be shared with")
	as := fs.String("as", "", "list, roles, disable, enable, passwd: the administrator acting (logged)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "add" {
		return addUser(ctx, *db, pos, *display, *department, *password, *roleList, out)
	}
	return withApp(ctx, *db, func(a *app) error {
		admin, err := actingUser(ctx, a, *as)
		if err != nil {
			return err
		}
		if args[0] == "list" {
			accs, err := a.svc.Accounts(ctx, admin)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "id	user	name	status	roles")
			for _, acc := range accs {
				status := "active"
				if acc.User.Disabled {
					status = "disabled"
				}
				var roles []string
				for _, p := range slices.Sorted(maps.Keys(acc.Roles)) {
					for _, r := range acc.Roles[p] {
						roles = append(roles, string(r)+"@"+p)
					}
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", acc.User.ID, acc.User.Username, engine.EscapeText(acc.User.DisplayName), status, strings.Join(roles, ","))
			}
			return tw.Flush()
		}
		if len(pos) != 1 {
			return fmt.Errorf("user %s: name one user", args[0])
		}
		u, err := a.db.UserByName(ctx, pos[0])
		if err != nil {
			return err
		}
		switch args[0] {
		case "roles":
			var roles []engine.Role
			for _, r := range strings.Split(*roleList, ",") {
				if r = strings.TrimSpace(r); r != "" {
					roles = append(roles, engine.Role(r))
				}
			}
			err = a.svc.SetRoles(ctx, admin, u.ID, *park, roles)
		case "disable", "enable":
			err = a.svc.SetDisabled(ctx, admin, u.ID, args[0] == "disable")
		case "passwd":
			err = a.svc.ResetPassword(ctx, admin, u.ID, *password)
		default:
			return fmt.Errorf("user: unknown command %q", args[0])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s: %s done\n", u.Username, args[0])
		return nil
	})
}

// addUser is the operator's bootstrap: it needs no administrator, so the
// first admin of a new database can be made (and a locked-out zone can make
// a new one); everything after that goes through an admin, and is logged.
func addUser(ctx context.Context, db string, pos []string, display, department, password, roleList string, out io.Writer) error {
	if len(pos) != 1 {
		return errors.New("user add: name one user")
	}
	var roles []engine.RoleAssignment
	for _, rp := range strings.Split(roleList, ",") {
		role, park, ok := strings.Cut(strings.TrimSpace(rp), "@")
		if !ok || !validRole(engine.Role(role)) {
			return fmt.Errorf("user add: --role %q: want ROLE@PARK with ROLE one of %v", rp, engine.Roles)
		}
		roles = append(roles, engine.RoleAssignment{Role: engine.Role(role), Park: park})
	}
	return withApp(ctx, db, func(a *app) error {
		if display == "" {
			display = pos[0]
		}
		u, err := a.svc.CreateUserIn(ctx, pos[0], display, department, password, roles)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "user %s created (id %d)\n", u.Username, u.ID)
		return nil
	})
}

func validRole(r engine.Role) bool {
	for _, x := range engine.Roles {
		if x == r {
			return true
		}
	}
	return false
}

// actingUser looks up the user a CLI command acts as. The CLI is the
// operator's tool on the server itself; the decision log records the user.
func actingUser(ctx context.Context, a *app, name string) (*engine.User, error) {
	if name == "" {
		return nil, errors.New("name the acting user with --as")
	}
	return a.db.UserByName(ctx, name)
}

func runProject(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("project: create, submit, act, score, show or list")
	}
	fs, db := newFlags("project " + args[0])
	as := fs.String("as", "", "act as this user")
	reason := fs.String("reason", "", "reason (required to return, reject, override, rectify, exit)")
	comment := fs.String("comment", "", "score comment")
	asJSON := fs.Bool("json", false, "print JSON")
	park := fs.String("park", "", "list: only this park")
	state := fs.String("state", "", "list: only this state")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	return withApp(ctx, *db, func(a *app) error {
		switch args[0] {
		case "create", "submit":
			if len(pos) != 1 {
				return fmt.Errorf("project %s: name one project JSON file", args[0])
			}
			in, err := readProjectInput(pos[0])
			if err != nil {
				return err
			}
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			p, err := a.svc.CreateProject(ctx, u, in)
			if err != nil {
				return err
			}
			if args[0] == "submit" {
				if p, err = a.svc.Act(ctx, u, p.ID, engine.Action{Event: engine.EventSubmit, Version: p.Version}); err != nil {
					return fmt.Errorf("project %d registered as a draft but not submitted: %w", p.ID, err)
				}
			}
			fmt.Fprintf(out, "project %d: %s\n", p.ID, p.State)
			if p.Report != nil {
				printReport(out, p.Report)
			}
			return nil
		case "act":
			if len(pos) != 2 {
				return errors.New("project act: want ID EVENT")
			}
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return fmt.Errorf("project act: bad id %q", pos[0])
			}
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			p, err := a.svc.Project(ctx, u, id)
			if err != nil {
				return err
			}
			from := p.State
			if p, err = a.svc.Act(ctx, u, id, engine.Action{Event: pos[1], Version: p.Version, Reason: *reason}); err != nil {
				return err
			}
			fmt.Fprintf(out, "project %d: %s → %s\n", p.ID, from, p.State)
			return nil
		case "score":
			if len(pos) < 1 {
				return errors.New("project score: want ID CRITERION=POINTS...")
			}
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return fmt.Errorf("project score: bad id %q", pos[0])
			}
			items := map[string]float64{}
			for _, kv := range pos[1:] {
				k, v, ok := strings.Cut(kv, "=")
				f, err := strconv.ParseFloat(v, 64)
				if !ok || err != nil {
					return fmt.Errorf("project score: %q is not CRITERION=POINTS", kv)
				}
				items[k] = f
			}
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			p, err := a.svc.Project(ctx, u, id)
			if err != nil {
				return err
			}
			res, err := a.svc.Score(ctx, u, id, engine.ScoreInput{Round: p.Round, Items: items, Comment: *comment})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "project %d: scored %.1f", id, res.Score.Total)
			if res.Quorum {
				fmt.Fprintf(out, "; quorum reached, mean %.2f → %s", res.Mean, res.Project.State)
			}
			fmt.Fprintln(out)
			return nil
		case "show":
			if len(pos) != 1 {
				return errors.New("project show: want ID")
			}
			id, err := strconv.ParseInt(pos[0], 10, 64)
			if err != nil {
				return fmt.Errorf("project show: bad id %q", pos[0])
			}
			return showProject(ctx, a, id, *asJSON, out)
		case "list":
			f := engine.ProjectFilter{Sort: "id", Limit: 1000}
			if *park != "" {
				f.Parks = []string{*park}
			}
			if *state != "" {
				f.States = []engine.State{engine.State(*state)}
			}
			ps, total, err := a.db.Projects(ctx, f)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "id\tpark\tstate\tdue\tname")
			for _, p := range ps {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", p.ID, p.Park, p.State, dueText(ctx, a, p.State, p.DueAt), engine.EscapeText(p.Name))
			}
			tw.Flush()
			fmt.Fprintf(out, "%d project(s)\n", total)
			return nil
		}
		return fmt.Errorf("project: unknown command %q", args[0])
	})
}

func localTime(a *app, t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.In(a.svc.Location()).Format("2006-01-02 15:04")
}

// dueText is a deadline as the CLI shows it, marked "provisional (暂定)"
// when it falls in a year whose holidays are not published yet.
func dueText(ctx context.Context, a *app, st engine.State, t *time.Time) string {
	if a.svc.DueProvisional(ctx, st, t) {
		return localTime(a, t) + " provisional(暂定)"
	}
	return localTime(a, t)
}

// showProject prints a project as the operator sees it: no role needed, the
// CLI runs on the server with the database in hand.
func showProject(ctx context.Context, a *app, id int64, asJSON bool, out io.Writer) error {
	p, err := a.db.Project(ctx, id)
	if err != nil {
		return err
	}
	history, err := a.db.AuditEntries(ctx, engine.AuditFilter{ProjectID: id})
	if err != nil {
		return err
	}
	scores, err := a.db.Scores(ctx, id, p.Round)
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(out, map[string]any{"project": p, "scores": scores, "history": history})
	}
	fmt.Fprintf(out, "project %d  %s\n  park %s  investor %s  USCC %s\n  state %s (%s)  version %d  round %d  due %s\n",
		p.ID, engine.EscapeText(p.Name), p.Park, engine.EscapeText(p.InvestorName), engine.EscapeText(p.USCC), p.State, engine.StateLabel(p.State, "zh"), p.Version, p.Round, dueText(ctx, a, p.State, p.DueAt))
	f := p.Figures
	fmt.Fprintf(out, "  industry %s  investment %s 万元 (fixed %s)  land %s 亩  output %s  tax %s  R&D %s 万元  energy %s tce\n",
		engine.EscapeText(f.IndustryCode), figureText(f.TotalInvestment, 0), figureText(f.FixedAssetInvestment, 0), figureText(f.LandArea, 2),
		figureText(f.ExpectedOutput, 0), figureText(f.Tax, 0), figureText(f.RDExpense, 0), figureText(f.EnergyUse, 0))
	if p.Report != nil {
		printReport(out, p.Report)
	}
	if len(scores) > 0 {
		fmt.Fprintf(out, "scores (round %d):\n", p.Round)
		for _, s := range scores {
			fmt.Fprintf(out, "  %-12s %6.1f  %s\n", s.Reviewer, s.Total, engine.EscapeText(s.Comment))
		}
	}
	fmt.Fprintln(out, "history:")
	sort.Slice(history, func(i, j int) bool { return history[i].Seq < history[j].Seq })
	for _, e := range history {
		fmt.Fprintf(out, "  #%d %s %-10s %-9s %-18s %s → %s  %s\n", e.Seq, e.Time.In(a.svc.Location()).Format("2006-01-02 15:04"),
			engine.EscapeText(e.Actor), e.Role, e.Event, e.FromState, e.ToState, engine.EscapeText(e.Reason))
	}
	return nil
}

// figureText shows a declared figure with n decimals, or "-" for a blank (never 0).
func figureText(v *float64, n int) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', n, 64)
}
