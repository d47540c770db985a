// Command zvload is a load test a zone would recognise: simulated users
// (promoters, reviewers, committee members) working a deadline day against
// a running zonevet server, over HTTP as their browsers and scripts would.
//
//	zonevet serve --addr 127.0.0.1:8080 --db /tmp/load.db     # a fresh database: demo accounts and parks
//	go run ./cmd/zvload --addr http://127.0.0.1:8080 --users 200 --duration 60s --pid $(pgrep -n zonevet)
//
// Promoters register a project through the JSON API and submit it; a
// reviewer passes it through the project page's HTML form (session cookie
// and CSRF field, as clicked); three reviewers score it through the API; the
// committee approves it. Everyone also opens the project list now and then,
// searches it, and looks at a project. Work is handed from stage to stage
// inside zvload, so no two users act on one project at once: every answer
// other than the expected one counts as an error, and there must be none.
//
// It reports decisions per second (submit, pass, score, approve), p50 and
// p99 per route, the errors, and with --pid the server's resident memory
// (peak of VmRSS sampled twice a second, and the kernel's VmHWM).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	cfg := config{}
	flag.StringVar(&cfg.addr, "addr", "http://127.0.0.1:8080", "the server's base URL")
	flag.IntVar(&cfg.users, "users", 200, "simulated users: 40% promoters, 50% reviewers (three accounts), 10% committee")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long to run")
	flag.DurationVar(&cfg.think, "think", 100*time.Millisecond, "mean pause between a user's requests (uniform, 0 to twice this)")
	flag.StringVar(&cfg.password, "password", "zonevet-demo", "the demo accounts' password")
	flag.StringVar(&cfg.park, "park", "qingyuan", "the park worked in (its demo accounts promoter1, reviewer1–3, committee1)")
	flag.IntVar(&cfg.pid, "pid", 0, "the server's process id, to report its resident memory (same machine)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zvload:", err)
		os.Exit(1)
	}
	res.print(os.Stdout)
	if res.errors > 0 {
		os.Exit(2)
	}
}

type config struct {
	addr, password, park string
	users, pid           int
	duration, think      time.Duration
	until                []string  // routes the run goes on past duration until each was measured (bounded by ctx)
	out                  io.Writer // progress; nil for none
}
