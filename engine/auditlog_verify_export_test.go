package engine

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"zonevet/engine/tlog"
)

// chainHashStreamed is ChainHash as first written, field by field into the
// hash: the message must not have changed by a byte.
func chainHashStreamed(prev string, e *AuditEntry) string {
	h := sha256.New()
	var n [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("zonevet-audit-v1")
	field(prev)
	field(strconv.FormatInt(e.Seq, 10))
	field(e.Time.UTC().Format(time.RFC3339Nano))
	field(e.Actor)
	field(string(e.Role))
	field(e.Park)
	field(strconv.FormatInt(e.ProjectID, 10))
	field(e.Event)
	field(string(e.FromState))
	field(string(e.ToState))
	field(e.Reason)
	field(e.RuleSetVersion)
	field(e.Payload)
	return hex.EncodeToString(h.Sum(nil))
}

func TestChainHashEncoding(t *testing.T) {
	var buf []byte
	for i, e := range []AuditEntry{
		{},
		{Seq: -9223372036854775808, ProjectID: 9223372036854775807, Time: time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("x", 3600))},
		{Seq: 1, Time: time.Date(2025, 3, 3, 2, 0, 0, 123456789, time.UTC), Actor: "审核员", Role: RoleReviewer, Park: "qingyuan",
			ProjectID: 42, Event: "score", FromState: StateScreening, ToState: StateExpertReview, Reason: "\x00\xff理由\n",
			RuleSetVersion: "v1", Payload: strings.Repeat("长", 5000), PrevHash: GenesisHash},
	} {
		want := chainHashStreamed(e.PrevHash, &e)
		if got := ChainHash(e.PrevHash, &e); got != want {
			t.Fatalf("entry %d: ChainHash = %s, want %s", i, got, want)
		}
		e.Hash = want
		var s *tlog.Suite
		if buf, s = chainHashSuite(buf, &e, nil); s != tlog.Default {
			t.Fatalf("entry %d: chainHashSuite %v for the right SHA-256 hash", i, s)
		}
		e.Payload += "x"
		if buf, s = chainHashSuite(buf, &e, nil); s != nil {
			t.Fatalf("entry %d: chainHashSuite %v for an altered entry", i, s)
		}
	}
}

// verifyExportSerial is VerifyExport as first written, line by line: the
// parallel verifier must give exactly its result or its error.
func verifyExportSerial(r io.Reader, trusted ed25519.PublicKey, partial bool, extra []Checkpoint) (*VerifyResult, error) {
	v := NewLogVerifier(trusted, partial)
	v.AddCheckpoints(extra)
	br := bufio.NewReaderSize(r, 1<<20)
	var e AuditEntry
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 {
			cps, perr := ParseEntryLine(line, &e)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", n, perr)
			}
			if len(cps) > 0 {
				v.AddCheckpoints(cps)
			}
			v.Entry(&e)
		}
		if errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	return v.Finish(), nil
}

var parallelKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32))

func parallelChain(n int) []AuditEntry {
	t0 := time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)
	out := make([]AuditEntry, n)
	prev := GenesisHash
	for i := range out {
		e := AuditEntry{Seq: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Second), Actor: fmt.Sprint("reviewer", i%7),
			Role: RoleReviewer, Park: "qingyuan", ProjectID: int64(i % 9), Event: "score",
			Reason: fmt.Sprintf("理由 #%d\n第二行", i+1), Payload: fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", i%300)), PrevHash: prev}
		e.Hash = ChainHash(prev, &e)
		prev = e.Hash
		out[i] = e
	}
	return out
}

func exportLines(t *testing.T, es []AuditEntry, cps ...Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := NewAuditWriter(&buf, "jsonl", nil, ExportLabels{})
	_ = w.Checkpoints(cps)
	for i := range es {
		_ = w.Entry(&es[i])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

// TestVerifyExportParallel: with any number of workers, over batch
// boundaries (exportBatchLines lines each), the result is the line-by-line
// verifier's: the first bad entry and why, every checkpoint finding, the
// first bad line, a read error after the lines before it.
func TestVerifyExportParallel(t *testing.T) {
	const n = 5*exportBatchLines + 100
	at := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	good := parallelChain(n)
	sign := func(es []AuditEntry, seq int64, d time.Duration) Checkpoint {
		return SignCheckpoint(parallelKey, seq, es[seq-1].Hash, at.Add(d))
	}
	cps := []Checkpoint{sign(good, exportBatchLines+1, 0), sign(good, 700, time.Minute), sign(good, n, time.Hour)}
	altered := func(seqs ...int) []byte {
		es := append([]AuditEntry(nil), good...)
		for _, s := range seqs {
			es[s-1].Reason += "改"
		}
		return exportLines(t, es, cps...)
	}
	lines := func(data []byte) [][]byte { return bytes.SplitAfter(data, []byte("\n")) }
	edit := func(f func(ls [][]byte) [][]byte) []byte {
		return bytes.Join(f(lines(exportLines(t, good, cps...))), nil)
	}
	b := exportBatchLines
	cases := []struct {
		name  string
		data  []byte
		extra []Checkpoint
		tail  io.Reader // read after data
	}{
		{name: "OK", data: exportLines(t, good, cps...)},
		{name: "AlteredLastOfBatch", data: altered(b)},
		{name: "AlteredFirstOfBatch", data: altered(b + 1)},
		{name: "AlteredLater", data: altered(3*b + 17)},
		{name: "TwoAlteredReportsFirst", data: altered(4*b+2, b+5)},
		{name: "AlteredLastEntry", data: altered(n)},
		{name: "DeletedAtBoundary", data: edit(func(ls [][]byte) [][]byte { return append(ls[:2*b:2*b], ls[2*b+1:]...) })},
		{name: "SwappedAtBoundary", data: edit(func(ls [][]byte) [][]byte { ls[b-1], ls[b] = ls[b], ls[b-1]; return ls })},
		{name: "Inserted", data: edit(func(ls [][]byte) [][]byte {
			return append(ls[:3*b:3*b], append([][]byte{ls[10]}, ls[3*b:]...)...)
		})},
		{name: "RecomputedChain", data: func() []byte {
			es := append([]AuditEntry(nil), good...)
			es[99].Reason = "符合标准"
			prev := GenesisHash
			for i := range es {
				es[i].PrevHash, es[i].Hash = prev, ChainHash(prev, &es[i])
				prev = es[i].Hash
			}
			return exportLines(t, es, sign(es, n, 2*time.Hour))
		}(), extra: cps[:2]},
		{name: "TruncatedTail", data: edit(func(ls [][]byte) [][]byte { return ls[:3*b+5] }), extra: cps[2:]},
		{name: "ForgedCheckpoint", data: func() []byte {
			bad := cps[1]
			bad.Hash = good[0].Hash
			return exportLines(t, good, cps[0], bad, cps[2])
		}()},
		{name: "BlankLines", data: edit(func(ls [][]byte) [][]byte {
			return append(ls[:b:b], append([][]byte{[]byte("\n"), []byte("\r\n")}, ls[b:]...)...)
		})},
		{name: "BadLinesReportsFirst", data: edit(func(ls [][]byte) [][]byte {
			ls[3*b+3] = []byte("{not json\n")
			ls[b+9] = []byte("[1,2]\n")
			return ls
		})},
		{name: "BadLineAfterBreak", data: edit(func(ls [][]byte) [][]byte {
			ls[5] = bytes.Replace(ls[5], []byte("理由"), []byte("理 由"), 1)
			ls[4*b] = []byte("{\n")
			return ls
		})},
		{name: "BadLineAfterBlank", data: edit(func(ls [][]byte) [][]byte {
			return append(ls[:b+1:b+1], append([][]byte{[]byte("\n"), []byte("nope\n")}, ls[b+1:]...)...)
		})},
		{name: "ReadError", data: edit(func(ls [][]byte) [][]byte { return ls[:2*b+7] }), tail: failingReader{errors.New("disk on fire")}},
		{name: "ReadErrorAfterBadLine", data: edit(func(ls [][]byte) [][]byte {
			ls[b+1] = []byte("{\n")
			return ls[:2*b+7]
		}), tail: failingReader{errors.New("disk on fire")}},
	}
	reader := func(data []byte, tail io.Reader) io.Reader {
		if tail == nil {
			return bytes.NewReader(data)
		}
		return io.MultiReader(bytes.NewReader(data), tail)
	}
	pub := parallelKey.Public().(ed25519.PublicKey)
	for _, tc := range cases {
		want, wantErr := verifyExportSerial(reader(tc.data, tc.tail), pub, false, tc.extra)
		for _, workers := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("%s/Workers%d", tc.name, workers), func(t *testing.T) {
				got, err := verifyExport(reader(tc.data, tc.tail), pub, false, tc.extra, workers)
				if fmt.Sprint(err) != fmt.Sprint(wantErr) {
					t.Fatalf("err = %v, want %v", err, wantErr)
				}
				if err != nil {
					return
				}
				got.Duration = 0
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got  %+v\nwant %+v", got, want)
				}
			})
		}
		switch {
		case tc.name == "OK" && (wantErr != nil || !want.OK || want.CheckpointsGood != 3 || want.Entries != n):
			t.Fatalf("intact export: %+v %v", want, wantErr)
		case tc.name != "OK" && tc.name != "BlankLines" && wantErr == nil && want.OK:
			t.Fatalf("%s: not detected", tc.name)
		}
	}
	// The findings themselves, beside being the line-by-line verifier's.
	res, _ := verifyExport(bytes.NewReader(altered(4*b+2, b+5)), pub, false, nil, 2)
	if res.Break == nil || res.Break.Seq != int64(b+5) || !strings.Contains(res.Break.Reason, "altered") {
		t.Fatalf("two altered entries: %+v", res.Break)
	}
	_, err := verifyExport(bytes.NewReader(cases[13].data), pub, false, nil, 2)
	if err == nil || !strings.HasPrefix(err.Error(), fmt.Sprintf("line %d:", b+10)) {
		t.Fatalf("bad lines: %v, want line %d first", err, b+10)
	}
}

// TestAppendJSONStringRuns: the run-copying encoder for valid UTF-8 writes
// what encoding/json writes, around every byte that needs escaping.
func TestAppendJSONStringRuns(t *testing.T) {
	alphabet := []rune{'a', '"', '\\', '\n', '\r', '\t', '\b', '\f', 0, 0x1f, 0x7f, '<', '&', '中', '“', 0x2028, 0x2029,
		0x2027, 0x202a, 0xe2, 0x80, 0x1F600, 0x10FFFF, utf8.RuneError}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3000 {
		var sb strings.Builder
		for range rng.IntN(12) {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		s := sb.String()
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		if got := string(appendJSONString(nil, s)) + "\n"; got != want.String() {
			t.Fatalf("%q: got %s want %s", s, got, want.String())
		}
	}
}
