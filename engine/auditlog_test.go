package engine_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"zonevet/engine"
)

var testKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

// chain builds n linked entries with Chinese text, control characters and
// a JSON payload, as the store would.
func chain(n int) []engine.AuditEntry {
	t0 := time.Date(2025, 3, 3, 2, 0, 0, 123456789, time.UTC)
	out := make([]engine.AuditEntry, n)
	prev := engine.GenesisHash
	events := []string{"submit", "pass", "score", "override", "approve"}
	for i := range out {
		e := engine.AuditEntry{Seq: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute), Actor: fmt.Sprintf("reviewer%d", i%3+1),
			Role: engine.RoleReviewer, Park: "qingyuan", ProjectID: int64(i%4 + 1), Event: events[i%len(events)],
			FromState: engine.StateScreening, ToState: engine.StateExpertReview,
			Reason:         fmt.Sprintf("一事一议:亩均税收略低于标准,\"产业链\"补链项目 #%d\n第二行\t制表", i),
			RuleSetVersion: "9f1c2e", Payload: fmt.Sprintf(`{"mean":%d.5,"note":"新材料 <&>"}`, 70+i%20), PrevHash: prev}
		e.Hash = engine.ChainHash(prev, &e)
		prev = e.Hash
		out[i] = e
	}
	return out
}

func rehash(es []engine.AuditEntry) {
	prev := engine.GenesisHash
	for i := range es {
		es[i].PrevHash = prev
		es[i].Hash = engine.ChainHash(prev, &es[i])
		prev = es[i].Hash
	}
}

func cp(es []engine.AuditEntry, seq int64, at time.Time) engine.Checkpoint {
	return engine.SignCheckpoint(testKey, seq, es[seq-1].Hash, at)
}

// export renders entries and checkpoints as the JSON Lines export.
func export(t testing.TB, es []engine.AuditEntry, cps ...engine.Checkpoint) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := engine.NewAuditWriter(&buf, "jsonl", nil, engine.ExportLabels{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Checkpoints(cps); err != nil {
		t.Fatal(err)
	}
	for i := range es {
		if err := w.Entry(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func verify(t testing.TB, data []byte, extra ...engine.Checkpoint) *engine.VerifyResult {
	t.Helper()
	res, err := engine.VerifyExport(bytes.NewReader(data), testKey.Public().(ed25519.PublicKey), false, extra)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestVerifyExport(t *testing.T) {
	at := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	good := chain(20)
	cps := []engine.Checkpoint{cp(good, 5, at), cp(good, 12, at.Add(time.Hour)), cp(good, 20, at.Add(2*time.Hour))}

	t.Run("OK", func(t *testing.T) {
		res := verify(t, export(t, good, cps...))
		if !res.OK || res.Entries != 20 || res.CheckpointsGood != 3 || res.HeadHash != good[19].Hash {
			t.Fatalf("intact export: %+v", res)
		}
	})

	// One changed byte in any field of any entry breaks the chain at that entry.
	fields := []func(e *engine.AuditEntry){
		func(e *engine.AuditEntry) { e.Seq++ },
		func(e *engine.AuditEntry) { e.Time = e.Time.Add(time.Nanosecond) },
		func(e *engine.AuditEntry) { e.Actor = flip(e.Actor) },
		func(e *engine.AuditEntry) { e.Role = engine.Role(flip(string(e.Role))) },
		func(e *engine.AuditEntry) { e.Park = flip(e.Park) },
		func(e *engine.AuditEntry) { e.ProjectID ^= 1 },
		func(e *engine.AuditEntry) { e.Event = flip(e.Event) },
		func(e *engine.AuditEntry) { e.FromState = engine.State(flip(string(e.FromState))) },
		func(e *engine.AuditEntry) { e.ToState = engine.State(flip(string(e.ToState))) },
		func(e *engine.AuditEntry) { e.Reason = flip(e.Reason) },
		func(e *engine.AuditEntry) { e.RuleSetVersion = flip(e.RuleSetVersion) },
		func(e *engine.AuditEntry) { e.Payload = flip(e.Payload) },
		func(e *engine.AuditEntry) { e.PrevHash = flip(e.PrevHash) },
		func(e *engine.AuditEntry) { e.Hash = flip(e.Hash) },
	}
	for i, mutate := range fields {
		t.Run(fmt.Sprintf("ErrChangedField%d", i), func(t *testing.T) {
			es := append([]engine.AuditEntry(nil), good...)
			mutate(&es[9])
			res := verify(t, export(t, es, cps...))
			if res.OK || res.Break == nil || res.Break.Seq < 10 || res.Break.Seq > 11 {
				t.Fatalf("field %d changed in #10: %+v", i, res)
			}
		})
	}
	t.Run("ErrChangedByteInFile", func(t *testing.T) {
		// Flip one byte inside a reason in the file itself, not through the struct.
		data := export(t, good, cps...)
		i := bytes.Index(data, []byte("补链项目 #7"))
		data[i+len("补链项目 #")] = '8'
		if res := verify(t, data); res.OK || res.Break == nil || res.Break.Seq != 8 {
			t.Fatalf("byte flipped in the file: %+v", res)
		}
	})
	t.Run("ErrDeleted", func(t *testing.T) {
		es := append(append([]engine.AuditEntry(nil), good[:6]...), good[7:]...)
		if res := verify(t, export(t, es, cps...)); res.OK || res.Break == nil || res.Break.Seq != 8 {
			t.Fatalf("entry 7 deleted: %+v", res)
		}
	})
	t.Run("ErrSwapped", func(t *testing.T) {
		es := append([]engine.AuditEntry(nil), good...)
		es[3], es[4] = es[4], es[3]
		if res := verify(t, export(t, es, cps...)); res.OK || res.Break == nil || res.Break.Seq != 5 {
			t.Fatalf("entries 4 and 5 swapped: %+v", res)
		}
	})
	t.Run("ErrRecomputedChain", func(t *testing.T) {
		// Someone with the database rewrites a reason in entry 3 and
		// recomputes every hash after it: the chain is consistent again, but
		// the checkpoints signed before the rewrite no longer match.
		es := append([]engine.AuditEntry(nil), good...)
		es[2].Reason = "符合标准,同意"
		rehash(es)
		res := verify(t, export(t, es, cps...))
		if res.Break != nil {
			t.Fatalf("the recomputed chain should be consistent in itself: %v", res.Break)
		}
		if res.OK || res.CheckpointsGood != 0 || !strings.Contains(strings.Join(res.Problems, "\n"), "rewritten") {
			t.Fatalf("recomputed chain not caught by the earlier checkpoints: %+v", res)
		}
		// Even if the forger drops the old checkpoints and the file carries
		// none, an older export kept elsewhere catches it.
		res = verify(t, export(t, es), cps[0])
		if res.OK || len(res.Problems) != 1 {
			t.Fatalf("recomputed chain not caught by an older export's checkpoint: %+v", res)
		}
	})
	t.Run("ErrTruncatedTail", func(t *testing.T) {
		// The database lost its last entries but kept the latest checkpoint.
		res := verify(t, export(t, good[:17], cps...))
		if res.OK || res.Break != nil || !strings.Contains(strings.Join(res.Problems, "\n"), "tail was cut") {
			t.Fatalf("truncated log: %+v", res)
		}
		// The export file itself cut short: caught against the latest checkpoint kept elsewhere.
		data := export(t, good, cps...)
		lines := bytes.SplitAfter(data, []byte("\n"))
		cut := bytes.Join(lines[:15], nil)
		res = verify(t, cut, cps[2])
		if res.OK || !strings.Contains(strings.Join(res.Problems, "\n"), "tail was cut") {
			t.Fatalf("truncated file: %+v", res)
		}
	})
	t.Run("ErrForgedSignature", func(t *testing.T) {
		bad := cps[1]
		sig := []byte(bad.Signature)
		sig[5] ^= 'A' ^ 'B'
		if sig[5] == bad.Signature[5] {
			sig[5] = 'C'
		}
		bad.Signature = string(sig)
		res := verify(t, export(t, good, cps[0], bad, cps[2]))
		if res.OK || res.CheckpointsGood != 2 || !strings.Contains(strings.Join(res.Problems, "\n"), "#12") {
			t.Fatalf("forged signature: %+v", res)
		}
		// A checkpoint signed with another key over the right head is not trusted either.
		other := engine.SignCheckpoint(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)), 20, good[19].Hash, at)
		if res := verify(t, export(t, good, other)); res.OK || !strings.Contains(res.Problems[0], "another key") {
			t.Fatalf("foreign key: %+v", res)
		}
		// A checkpoint moved to another seq fails its signature.
		moved := cps[0]
		moved.Seq, moved.Hash = 6, good[5].Hash
		if res := verify(t, export(t, good, moved)); res.OK {
			t.Fatalf("moved checkpoint accepted: %+v", res)
		}
	})
	t.Run("PartialExport", func(t *testing.T) {
		var es []engine.AuditEntry
		for _, e := range good {
			if e.ProjectID == 2 {
				es = append(es, e)
			}
		}
		res, err := engine.VerifyExport(bytes.NewReader(export(t, es, cps...)), testKey.Public().(ed25519.PublicKey), true, nil)
		if err != nil || !res.OK || res.Entries != 5 {
			t.Fatalf("filtered export: %v %+v", err, res)
		}
		es[2].Reason = "x"
		res, _ = engine.VerifyExport(bytes.NewReader(export(t, es)), testKey.Public().(ed25519.PublicKey), true, nil)
		if res.OK || res.Break == nil || res.Break.Seq != es[2].Seq {
			t.Fatalf("altered entry in a filtered export: %+v", res)
		}
	})
}

// flip changes one byte of s (its last), keeping it valid UTF-8.
func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	if b[len(b)-1] == 'x' {
		b[len(b)-1] = 'y'
	} else if b[len(b)-1] < 0x80 {
		b[len(b)-1] = 'x'
	} else {
		b = append(b, 'x')
	}
	return string(b)
}

// TestJSONLMatchesEncodingJSON holds the hand-written encoder to
// encoding/json's output and the decoder to its reading.
func TestJSONLMatchesEncodingJSON(t *testing.T) {
	odd := []string{"", "plain", "中文,“引号”", "a\"b\\c", "line\nbreak\r\ttab\b\f", "\x00\x01\x1f\x7f",
		"\u2028\u2029", "bad \xff utf8 \xc3", "<script>&amp;</script>", "emoji 😀 \U0010FFFF", `{"json":"in json"}`}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		odd = append(odd, string(b))
	}
	for i, s := range odd {
		e := chain(1)[0]
		e.Actor, e.Reason, e.Payload, e.Park = s, s, s, s
		e.Time = time.Date(2025, 1, 2, 3, 4, 5, i*1000, time.UTC)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			t.Fatal(err)
		}
		got := append(engine.AppendEntryJSON(nil, &e, nil), '\n')
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("string %q:\n got %s\nwant %s", s, got, want.Bytes())
		}
		var back, ref engine.AuditEntry
		if _, err := engine.ParseEntryLine(got[:len(got)-1], &back); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &ref); err != nil {
			t.Fatal(err)
		}
		if back != ref {
			t.Fatalf("string %q: parsed %+v, encoding/json %+v", s, back, ref)
		}
	}
}

// FuzzParseEntryLine: the fast parser never disagrees with encoding/json.
func FuzzParseEntryLine(f *testing.F) {
	for _, e := range chain(3) {
		f.Add(engine.AppendEntryJSON(nil, &e, nil))
	}
	f.Add([]byte(`{"seq":1,"reason":"\ud83d\ude00 \ud800 x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var got, want engine.AuditEntry
		_, err := engine.ParseEntryLine(line, &got)
		werr := json.Unmarshal(line, &struct {
			*engine.AuditEntry
			Checkpoints []engine.Checkpoint `json:"checkpoints"`
		}{AuditEntry: &want})
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: fast %v, encoding/json %v", line, err, werr)
		}
		if err == nil && !got.Time.Equal(want.Time) {
			t.Fatalf("%q: time %v vs %v", line, got.Time, want.Time)
		}
		got.Time, want.Time = time.Time{}, time.Time{}
		if err == nil && got != want {
			t.Fatalf("%q: fast %+v, encoding/json %+v", line, got, want)
		}
	})
}

func TestCSVExport(t *testing.T) {
	es := chain(5)
	es[1].Reason = "=HYPERLINK(\"http://evil\")"
	var buf bytes.Buffer
	w, err := engine.NewAuditWriter(&buf, "csv", time.FixedZone("CST", 8*3600), exportLabels)
	if err != nil {
		t.Fatal(err)
	}
	for i := range es {
		w.Entry(&es[i])
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		t.Fatalf("no UTF-8 byte-order mark: % x", data[:8])
	}
	rows, err := csv.NewReader(bytes.NewReader(data[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(rows[0], ","), strings.Join(engine.ExportHeader("zh-CN"), ","); got != want {
		t.Fatalf("header %s, want %s", got, want)
	}
	if rows[0][6] != "事件" || rows[0][len(rows[0])-3] != "事件代码" {
		t.Fatalf("header not in Chinese: %q", rows[0])
	}
	if len(rows) != len(es)+1 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, e := range es {
		r := rows[i+1]
		want := e.Reason
		if i == 1 {
			want = "'" + e.Reason // a formula is defused
		}
		if r[0] != fmt.Sprint(e.Seq) || r[2] != e.Actor || r[9] != want || r[11] != e.Payload || r[13] != e.Hash ||
			r[14] != e.OnBehalfOf || r[15] != e.Time.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05") {
			t.Errorf("row %d: %q", i+1, r)
		}
		checkLabelled(t, i+1, r, &e)
	}
	if !strings.Contains(rows[1][9], "补链项目") || !strings.Contains(rows[1][9], "\n第二行") {
		t.Errorf("Chinese text or newline lost: %q", rows[1][9])
	}
}

var exportLabels = engine.ExportLabels{Lang: "zh-CN", Parks: map[string]string{"qingyuan": "清远高新区"}}

// checkLabelled: the CSV/.xlsx row names the coded fields in Chinese and
// keeps their codes in the last columns, in EntryFields' order.
func checkLabelled(t *testing.T, n int, r []string, e *engine.AuditEntry) {
	t.Helper()
	k := len(r) - 5
	if r[3] != "评审专家" || r[4] != "清远高新区" || r[6] != engine.EventLabel(e.Event, "zh-CN") || r[6] == e.Event ||
		e.Event == "pass" && r[6] != "通过初审" || r[7] != "初审(规则筛查)" || r[8] != "专家评审" {
		t.Errorf("row %d names %q", n, r[:9])
	}
	if got := r[k:]; got[0] != string(e.Role) || got[1] != e.Park || got[2] != e.Event || got[3] != string(e.FromState) || got[4] != string(e.ToState) {
		t.Errorf("row %d codes %q", n, got)
	}
}

func TestXLSXExport(t *testing.T) {
	es := chain(30)
	at := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	w, err := engine.NewAuditWriter(&buf, "xlsx", time.UTC, exportLabels)
	if err != nil {
		t.Fatal(err)
	}
	w.Checkpoints([]engine.Checkpoint{cp(es, 30, at)})
	for i := range es {
		if err := w.Entry(&es[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(engine.XLSXLogSheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(es)+1 || strings.Join(rows[0], ",") != strings.Join(engine.ExportHeader("zh-CN"), ",") {
		t.Fatalf("%d rows, header %q", len(rows), rows[0])
	}
	for i, e := range es {
		r := rows[i+1]
		checkLabelled(t, i+1, r, &e)
		if r[0] != fmt.Sprint(e.Seq) || r[1] != e.Time.Format(time.RFC3339Nano) || r[2] != e.Actor ||
			r[5] != fmt.Sprint(e.ProjectID) || r[9] != e.Reason || r[11] != e.Payload || r[12] != e.PrevHash || r[13] != e.Hash {
			t.Errorf("row %d = %q, want entry %+v", i+1, r, e)
		}
		// The cells read back rebuild an entry whose hash is the one stored.
		back := e
		back.Reason, back.Payload = r[9], r[11]
		if engine.ChainHash(r[12], &back) != r[13] {
			t.Errorf("row %d does not hash to its hash", i+1)
		}
	}
	cps, err := f.GetRows(engine.XLSXCheckpointsSheet)
	if err != nil || len(cps) != 2 || cps[1][1] != es[29].Hash {
		t.Fatalf("checkpoint sheet %q %v", cps, err)
	}
}

func TestEscapeText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"张三 approve", "张三 approve"},
		{"ok\n#99 2025-01-01 admin approve", `ok\n#99 2025-01-01 admin approve`},
		{"a\rb\x1b[31mred", `a\rb\u{1b}[31mred`},
		{"rtl\u202eevil", `rtl\u{202e}evil`},
		{"isolate\u2066x\u2069", `isolate\u{2066}x\u{2069}`},
		{"zero\u200bwidth\ufeff\u061c", `zero\u{200b}width\u{feff}\u{61c}`},
		{`back\slash`, `back\\slash`},
		{"bad\xffbyte", `bad\xffbyte`},
	} {
		if got := engine.EscapeText(c.in); got != c.want {
			t.Errorf("EscapeText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCheckpointKeyFormats(t *testing.T) {
	pub := testKey.Public().(ed25519.PublicKey)
	s := engine.PublicKeyString(pub)
	for _, in := range []string{s, strings.TrimPrefix(s, "ed25519:"), "  " + s + "\n"} {
		got, err := engine.ParsePublicKey(in)
		if err != nil || !pub.Equal(got) {
			t.Fatalf("ParsePublicKey(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := engine.ParsePublicKey("ed25519:AAAA"); err == nil {
		t.Fatal("short key accepted")
	}
	dir := t.TempDir()
	k1, created, err := engine.LoadOrCreateSigningKey(dir + "/k/signing.pem")
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	k2, created, err := engine.LoadOrCreateSigningKey(dir + "/k/signing.pem")
	if err != nil || created || !k1.(ed25519.PrivateKey).Equal(k2) {
		t.Fatalf("reload: %v %v", created, err)
	}
	_ = io.Discard
}
