package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"zonevet/engine"
)

// runCalendar handles the working-day calendar: "calendar propose FILE --as
// ADMIN --note TEXT" (a new version, proposed), "calendar changes" (the
// proposals), "calendar approve|refuse|withdraw ID --as USER [--reason
// TEXT]" (the committee's decision, four eyes; an approval puts it in force
// and re-counts the open deadlines), "calendar show" (the years of the
// calendar in force) and "calendar default" (prints the built-in file, a
// starting point for next year's).
func runCalendar(ctx context.Context, args []string, out io.Writer) error {
	const usage = "propose, changes, approve, refuse, withdraw, show or default"
	if len(args) == 0 {
		return errors.New("calendar: " + usage)
	}
	fs, db := newFlags("calendar " + args[0])
	as := fs.String("as", "", "the user acting (logged)")
	note := fs.String("note", "", "propose: the change note (required)")
	reason := fs.String("reason", "", "approve: the opinion; refuse: the reason (required); withdraw: the reason")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "default":
		_, err := out.Write(engine.DefaultCalendarSource())
		return err
	case "propose":
		if len(pos) != 1 {
			return errors.New("calendar propose: name one calendar file")
		}
		src, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		return withApp(ctx, *db, func(a *app) error {
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			ch, err := a.svc.ProposeCalendar(ctx, u, src, *note)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "calendar change %d proposed (version %.12s); the committee approves it: zonevet calendar approve %d --as USER\n", ch.ID, ch.Version, ch.ID)
			return printCalendarPreview(ctx, a, u, ch.ID, out)
		})
	case "approve", "refuse", "withdraw":
		if len(pos) != 1 {
			return fmt.Errorf("calendar %s: name one change id", args[0])
		}
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return fmt.Errorf("calendar %s: %q is not a change id", args[0], pos[0])
		}
		return withApp(ctx, *db, func(a *app) error {
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			switch args[0] {
			case "approve":
				// The preview and the approval in one call: the approval
				// re-counts against the calendar in force at that moment.
				if err := printCalendarPreview(ctx, a, u, id, out); err != nil {
					return err
				}
				if _, err := a.svc.ApproveCalendar(ctx, u, id, "", *reason); err != nil {
					return err
				}
				c, err := a.svc.Calendar(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "calendar %s in force\n", c.Version())
				return printCalendar(out, c)
			case "refuse":
				_, err = a.svc.RefuseCalendar(ctx, u, id, *reason)
			default:
				_, err = a.svc.WithdrawCalendar(ctx, u, id, *reason)
			}
			if err == nil {
				fmt.Fprintf(out, "calendar change %d: %s\n", id, args[0])
			}
			return err
		})
	case "changes":
		return withApp(ctx, *db, func(a *app) error {
			u, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			cs, err := a.svc.CalendarChanges(ctx, u)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "id\tstate\tversion\tproposed by\tproposed at\tdecided by\tnote")
			for _, c := range cs {
				fmt.Fprintf(tw, "%d\t%s\t%.12s\t%s\t%s\t%s\t%s\n", c.ID, c.State, c.Version, c.ProposedBy,
					c.ProposedAt.In(a.svc.Location()).Format("2006-01-02 15:04"), c.DecidedBy, engine.EscapeText(c.Note))
			}
			return tw.Flush()
		})
	case "show":
		return withApp(ctx, *db, func(a *app) error {
			c, err := a.svc.Calendar(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "calendar %s\n", c.Version())
			return printCalendar(out, c)
		})
	}
	return fmt.Errorf("calendar: unknown subcommand %q (%s)", args[0], usage)
}

// printCalendarPreview prints what approving change id would do now: the
// days it changes and the deadlines it moves.
func printCalendarPreview(ctx context.Context, a *app, u *engine.User, id int64, out io.Writer) error {
	pv, err := a.svc.PreviewCalendarChange(ctx, u, id)
	if err != nil {
		return err
	}
	for _, d := range pv.Days {
		fmt.Fprintf(out, "%d: published %v -> %v; days off +%v -%v; worked weekends +%v -%v\n", d.Year, d.PublishedBefore, d.PublishedAfter,
			d.HolidaysAdded, d.HolidaysRemoved, d.WorkdaysAdded, d.WorkdaysRemoved)
	}
	loc := a.svc.Location()
	day := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.In(loc).Add(-time.Nanosecond).Format(time.DateOnly) // a deadline is the end of its day
	}
	fmt.Fprintf(out, "deadlines moved on approval: %d\n", len(pv.Moved))
	for _, m := range pv.Moved {
		fmt.Fprintf(out, "  project %d (%s): %s -> %s\n", m.ProjectID, m.State, day(m.Before), day(m.After))
	}
	return nil
}

func printCalendar(out io.Writer, c *engine.Calendar) error {
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "year\tstatus\tdays off\tworked weekends\tsource")
	for _, y := range c.Years() {
		status := "published"
		if !y.Published {
			status = "provisional (statutory days only)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%s\n", y.Year, status, len(y.Holidays), len(y.Workdays), engine.EscapeText(y.Source))
	}
	return tw.Flush()
}
