package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"zonevet/engine"
)

// runCalendar handles "calendar load FILE --as ADMIN" (puts a working-day
// calendar version in force, logged), "calendar show" (the years of the
// calendar in force) and "calendar default" (prints the built-in file, a
// starting point for next year's).
func runCalendar(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("calendar: load, show or default")
	}
	fs, db := newFlags("calendar " + args[0])
	as := fs.String("as", "", "load: the administrator acting (logged)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	switch args[0] {
	case "default":
		_, err := out.Write(engine.DefaultCalendarSource())
		return err
	case "load":
		if len(pos) != 1 {
			return errors.New("calendar load: name one calendar file")
		}
		src, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		return withApp(ctx, *db, func(a *app) error {
			admin, err := actingUser(ctx, a, *as)
			if err != nil {
				return err
			}
			c, err := a.svc.LoadCalendar(ctx, admin, src)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "calendar %s in force\n", c.Version())
			return printCalendar(out, c)
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
	return fmt.Errorf("calendar: unknown subcommand %q (load, show, default)", args[0])
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
