// Command zonevet runs the zone's project-vetting system: the web server and
// the operator's command line over the same embedded database.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"zonevet/engine"
)

const usage = `zonevet — 高新区招商引资项目遴选评审与跟踪系统

Usage:
  zonevet serve [--addr 127.0.0.1:8080] [--db zonevet.db] [--demo=true]
  zonevet init --db zonevet.db [--demo]
  zonevet rules check FILE...
  zonevet rules eval --park qingyuan [--json] [--rules FILE] project.json
  zonevet rules show --park qingyuan
  zonevet user add NAME --password PW --role ROLE@PARK[,ROLE@PARK...] [--display NAME]
  zonevet project create --as USER project.json
  zonevet project submit --as USER project.json
  zonevet project act ID EVENT --as USER [--reason TEXT]
  zonevet project score ID --as USER CRITERION=POINTS... [--comment TEXT]
  zonevet project show ID [--json]
  zonevet project list [--park P] [--state S]
` + auditUsage + witnessUsage + `  zonevet backup DIR [--docs FOLDER]         # database + documents while serving; checked
  zonevet lifecycle                        # the lifecycle as a Mermaid diagram
  zonevet calendar propose FILE --as ADMIN --note TEXT   # propose a working-day calendar version (logged)
  zonevet calendar approve|refuse|withdraw ID --as USER [--reason TEXT]   # the committee decides (four eyes); approved is in force
  zonevet calendar show | default            # the calendar in force | the built-in file
  zonevet experts verify-draw --log FILE.jsonl SEQ  # recompute an expert draw from an exported log (no database)
  zonevet remind sweep                       # remind of overdue projects and escalate them once now (cron-friendly)
  zonevet migrate --from DB --to DB          # copy all into a new, empty database (SQLite file or postgres:// URL, either way); log verified

Every command takes --db (default $ZONEVET_DB or zonevet.db). --db takes a SQLite file or a postgres:// URL.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		var exit exitError
		if errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, exit.msg)
			os.Exit(exit.code)
		}
		fmt.Fprintln(os.Stderr, "zonevet:", errorText(err))
		os.Exit(1)
	}
}

// exitError ends the program with a specific status, e.g. a failed verification.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// errorText shows a domain error in both languages, escaped (its message
// can quote what the user typed), and anything else as is.
func errorText(err error) string {
	var e *engine.Error
	if errors.As(err, &e) {
		field := ""
		if e.Field != "" {
			field = " [" + e.Field + "]"
		}
		// Text, not the inline pair: a catalogue error (engine.Fail) has only an id.
		return fmt.Sprintf("%s%s: %s / %s", e.Code, field, engine.EscapeText(e.Text("zh-CN")), engine.EscapeText(e.Text("en")))
	}
	return err.Error()
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return nil
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:])
	case "init":
		return runInit(ctx, args[1:], stdout)
	case "rules":
		return runRules(ctx, args[1:], stdout)
	case "user":
		return runUser(ctx, args[1:], stdout)
	case "project":
		return runProject(ctx, args[1:], stdout)
	case "audit":
		return runAudit(ctx, args[1:], stdout)
	case "witness":
		return runWitness(ctx, args[1:], stdout)
	case "backup":
		return runBackup(ctx, args[1:], stdout)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout)
	case "calendar":
		return runCalendar(ctx, args[1:], stdout)
	case "experts":
		return runExperts(ctx, args[1:], stdout)
	case "remind":
		return runRemind(ctx, args[1:], stdout)
	case "lifecycle":
		d, err := engine.Visualize()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, d)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n\n%s", args[0], usage)
}

// defaultDB is the database path when --db is not given.
func defaultDB() string {
	if p := os.Getenv("ZONEVET_DB"); p != "" {
		return p
	}
	return "zonevet.db"
}
