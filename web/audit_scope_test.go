package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"zonevet/engine"
)

// TestAuditPageRowsOnlyOwnParks: the rows of qingyuan's auditor's log page are
// exactly the entries of qingyuan and the zone-wide ones (park ""), compared
// by the sequence number in each row's first cell against the log read from
// the store; no row is the yingde project's (a leaked row would render an
// empty park cell, so the park names on the page prove nothing).
func TestAuditPageRowsOnlyOwnParks(t *testing.T) {
	w, _ := auditWorld(t)
	all, err := w.db.AuditEntries(w.ctx, engine.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	others := 0
	for _, e := range all {
		if e.Park == ownPark || e.Park == "" {
			want = append(want, e.Seq)
		} else {
			others++
		}
	}
	if others == 0 || len(want) > auditPageSize {
		t.Fatalf("want entries of both parks on one page: %d own, %d other", len(want), others)
	}
	slices.Reverse(want) // the page lists newest first

	rec := w.login("auditor").do("GET", "/audit", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var got []int64
	for _, r := range rowsOf(t, rec.Body.String()) {
		cells := findAll(r, func(n *html.Node) bool { return n.Data == "td" })
		seq, err := strconv.ParseInt(strings.TrimSpace(text(cells[0])), 10, 64)
		if err != nil {
			t.Fatalf("row's first cell %q is not a sequence number", text(cells[0]))
		}
		got = append(got, seq)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
}
