package engine

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Draw is what a draw entry (event "draw") records in its payload: every
// input of the draw and its result, so an auditor recomputes it from the
// exported log alone (VerifyDraw). The seed is fixed by the log itself:
// SeedHash is the hash of the entry just before the draw entry — the pass
// or override entry that moved the project into expert review, or the
// conflict entry of a recusal — which nobody can know before that entry
// is written (its time and chain position are in it).
type Draw struct {
	ProjectID int64  `json:"project_id"`
	Round     int    `json:"round"`
	SeedSeq   int64  `json:"seed_seq"`
	SeedHash  string `json:"seed_hash"`
	Seed      string `json:"seed"` // hex SHA-256(SeedHash || ":" || ProjectID)
	N         int    `json:"n"`
	MinField  int    `json:"min_field"`
	// Eligible are the candidates, sorted by id; Covers says the expert's
	// fields include the project's industry.
	Eligible []DrawCandidate `json:"eligible"`
	Excluded []DrawExclusion `json:"excluded"`
	// Replaces is the recused expert a replacement draw stands in for.
	Replaces int64   `json:"replaces,omitempty"`
	Drawn    []int64 `json:"drawn"`
}

// DrawCandidate is one eligible expert.
type DrawCandidate struct {
	ID     int64 `json:"id"`
	Covers bool  `json:"covers"`
}

// DrawExclusion is one expert left out of the draw, and why (a reason code:
// inactive, promoter, employer, relation, load, conflict, drawn).
type DrawExclusion struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
}

// drawSeed is the seed of a draw: SHA-256 of the seed entry's hash and the project id.
func drawSeed(seedHash string, projectID int64) [32]byte {
	return sha256.Sum256([]byte(seedHash + ":" + strconv.FormatInt(projectID, 10)))
}

// run fills d.Seed and d.Drawn from the other fields. The algorithm, for
// anyone recomputing it: sort the eligible by id; for counter = 0, 1, …
// take r = the first 8 bytes (big-endian) of SHA-256(seed || counter as 8
// bytes big-endian) and move the candidate at index r mod (remaining) from
// the remaining list to the order (a Fisher–Yates shuffle driven by the
// stream; the modulo bias is below 2⁻⁵⁰ for any pool size). Then pick the
// first MinField candidates of the order who cover the industry, and fill
// up to N with the rest in order; the drawn are listed in order of pick.
func (d *Draw) run() {
	seed := drawSeed(d.SeedHash, d.ProjectID)
	d.Seed = hex.EncodeToString(seed[:])
	rest := slices.Clone(d.Eligible)
	slices.SortFunc(rest, func(a, b DrawCandidate) int { return int(a.ID - b.ID) })
	var order []DrawCandidate
	var buf [40]byte
	copy(buf[:], seed[:])
	for counter := uint64(0); len(rest) > 0; counter++ {
		binary.BigEndian.PutUint64(buf[32:], counter)
		h := sha256.Sum256(buf[:])
		i := binary.BigEndian.Uint64(h[:8]) % uint64(len(rest))
		order = append(order, rest[i])
		rest = slices.Delete(rest, int(i), int(i)+1)
	}
	d.Drawn = nil
	taken := map[int64]bool{}
	for _, c := range order {
		if len(d.Drawn) < min(d.MinField, d.N) && c.Covers {
			d.Drawn, taken[c.ID] = append(d.Drawn, c.ID), true
		}
	}
	for _, c := range order {
		if len(d.Drawn) < d.N && !taken[c.ID] {
			d.Drawn, taken[c.ID] = append(d.Drawn, c.ID), true
		}
	}
}

// VerifyDraw recomputes the draw recorded in a draw entry, given the entry
// and the one before it in the log (whose hash is the seed's), and reports
// a mismatch as an error naming what differs.
func VerifyDraw(prev, e AuditEntry) (*Draw, error) {
	if e.Event != EventDraw {
		return nil, fmt.Errorf("entry %d is a %q, not a draw", e.Seq, e.Event)
	}
	var d Draw
	if err := json.Unmarshal([]byte(e.Payload), &d); err != nil {
		return nil, fmt.Errorf("entry %d: payload: %w", e.Seq, err)
	}
	if prev.Seq != d.SeedSeq || prev.Hash != d.SeedHash || e.PrevHash != d.SeedHash {
		return &d, fmt.Errorf("entry %d: seed entry %d hash %s is not the entry before the draw (%d, %s)", e.Seq, d.SeedSeq, d.SeedHash, prev.Seq, prev.Hash)
	}
	if d.ProjectID != e.ProjectID {
		return &d, fmt.Errorf("entry %d: draw for project %d logged on project %d", e.Seq, d.ProjectID, e.ProjectID)
	}
	again := d
	again.run()
	if again.Seed != d.Seed || !slices.Equal(again.Drawn, d.Drawn) {
		return &d, fmt.Errorf("entry %d: recomputed draw %v (seed %s) differs from the logged %v (seed %s)", e.Seq, again.Drawn, again.Seed, d.Drawn, d.Seed)
	}
	return &d, nil
}

// VerifyDrawInExport reads a JSONL export of the decision log (no database)
// up to entry seq, checking the hash chain on the way, and recomputes the
// draw logged there: the chain proves the seed entry is the one before the
// draw, the recomputation that nobody chose the experts.
func VerifyDrawInExport(r io.Reader, seq int64) (*Draw, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	v := NewChainVerifier()
	var prev AuditEntry
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 {
			var e AuditEntry
			if _, perr := ParseEntryLine(line, &e); perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			if e.Seq == 1 {
				v.Suite = SuiteOf(&e)
			}
			if cerr := v.Check(&e); cerr != nil {
				return nil, cerr
			}
			if e.Seq == seq {
				return VerifyDraw(prev, e)
			}
			prev = e
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("entry %d is not in the export (it ends at %d)", seq, v.HeadSeq)
		} else if err != nil {
			return nil, err
		}
	}
}
