package main

import (
	"bufio"
	"context"
	"database/sql"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// witnessProc is a `zonevet witness` process on loopback.
type witnessProc struct {
	cmd *exec.Cmd
	url string
	key string // NAME=ed25519:…, as printed
}

func startWitness(t *testing.T, bin, dir, logKey string) *witnessProc {
	t.Helper()
	cmd := exec.Command(bin, "witness", "--log-key", logKey, "--listen", "127.0.0.1:0", "--dir", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &witnessProc{cmd: cmd}
	t.Cleanup(w.stop)
	r := bufio.NewReader(out)
	first, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	_, addr, _ := strings.Cut(strings.TrimSpace(first), "listening on ")
	w.url = addr
	w.key = strings.TrimPrefix(strings.TrimSpace(second), "witness key ")
	return w
}

func (w *witnessProc) stop() {
	if w.cmd.ProcessState == nil {
		w.cmd.Process.Kill()
		w.cmd.Wait()
	}
}

// push runs one round of serve's witness push from this process.
func push(t *testing.T, dbPath string, key string, urls ...string) []error {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	k, err := engine.LoadSigningKey(key)
	if err != nil {
		t.Fatal(err)
	}
	l := a.svc.AuditLog(k)
	if _, _, err := l.Checkpoint(ctx, false); err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second}
	errs := make([]error, len(urls))
	for i, u := range urls {
		_, errs[i] = l.PushCheckpoint(ctx, u, httpWitness{url: u, client: client})
	}
	return errs
}

// TestWitnessesOnLoopback: two witness processes cosign the log's
// checkpoints; a witness that is down stops no decision, and catches up
// from the size it holds when it is back; a forked tree is refused and the
// refusal recorded; a history rewritten after a cosigned checkpoint fails
// `audit verify --witness-key` although the database and the zone's key
// are both in the rewriter's hands.
func TestWitnessesOnLoopback(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	keyFile := c.db + ".signing-key.pem"
	w1 := startWitness(t, c.bin, filepath.Join(dir, "w1"), pub)
	w2 := startWitness(t, c.bin, filepath.Join(dir, "w2"), pub)

	for i, err := range push(t, c.db, keyFile, w1.url, w2.url) {
		if err != nil {
			t.Fatalf("witness %d: %v", i+1, err)
		}
	}
	if out := c.ok("audit", "verify", "--pubkey", pub, "--witness-key", w1.key, "--witness-key", w2.key); !strings.Contains(out, "intact") {
		t.Fatalf("verify with both witnesses: %s", out)
	}

	// Witness 2 goes down: decisions go on, its checkpoint waits.
	w2.stop()
	appendEntries(t, c.db, 3)
	errs := push(t, c.db, keyFile, w1.url, w2.url)
	if errs[0] != nil || errs[1] == nil {
		t.Fatalf("with witness 2 down: %v", errs)
	}
	ctx := context.Background()
	a, err := openApp(ctx, c.db)
	if err != nil {
		t.Fatal(err)
	}
	states, err := a.svc.AuditLog(nil).WitnessStates(ctx, []string{w1.url, w2.url})
	a.close()
	if err != nil || states[0].Behind != 0 || states[1].Behind != 3 || states[1].Seq == 0 {
		t.Fatalf("witness states %+v %v", states, err)
	}
	// Back on another port: it holds the old size, answers 409 with it,
	// and gets the proof from there.
	w2 = startWitness(t, c.bin, filepath.Join(dir, "w2"), pub)
	if errs := push(t, c.db, keyFile, w2.url); errs[0] != nil {
		t.Fatalf("witness 2 back: %v", errs[0])
	}

	// The operator, holding database and key, rewrites entry 3, rebuilds
	// chain and tree, and signs the fork himself.
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	rewrite(t, raw)
	if _, err := raw.Exec(`DROP TRIGGER audit_tree_no_delete; DELETE FROM audit_tree`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	appendEntries(t, c.db, 1)
	fork := forkCheckpoint(t, c.db, keyFile)
	known := states[0].Seq // witness 1 cosigned the log with the three new entries
	refused := httpWitness{url: w1.url, client: http.DefaultClient}
	proof := forkProof(t, c.db, known, fork.Seq)
	if _, _, _, err := refused.AddCheckpoint(ctx, known, proof, fork.Note); err == nil || !strings.Contains(err.Error(), "422") {
		t.Fatalf("witness 1 on the fork: %v", err)
	}
	w := &tlog.Witness{Refused: filepath.Join(dir, "w1", "refusals.jsonl")}
	if rs, err := w.Refusals(); err != nil || len(rs) != 1 || !strings.Contains(rs[0].Reason, "does not extend") {
		t.Fatalf("refusals %+v %v", rs, err)
	}
	_, errOut, code := c.run("audit", "verify", "--pubkey", pub, "--witness-key", w1.key)
	if code != 2 || !strings.Contains(errOut, "rewritten") {
		t.Fatalf("verify with the witness after the rewrite: exit %d\n%s", code, errOut)
	}
}

// forkCheckpoint signs the rewritten head with the zone's key, without the
// signer's checks (the key holder's own tooling).
func forkCheckpoint(t *testing.T, dbPath, keyFile string) engine.Checkpoint {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	k, _ := engine.LoadSigningKey(keyFile)
	seq, hash, _ := a.db.AuditHead(ctx)
	root, err := a.db.TreeRoot(ctx, seq)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := a.db.AuditEntry(ctx, 1)
	c, err := engine.SignTreeCheckpoint(k, engine.LogOrigin(first.Hash), seq, hash, root, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func forkProof(t *testing.T, dbPath string, old, size int64) [][]byte {
	t.Helper()
	ctx := context.Background()
	a, err := openApp(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	p, err := a.db.ConsistencyProof(ctx, old, size)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWitnessCatchesTruncation: the operator cuts the tail after a
// cosigned checkpoint and removes every trace of it he holds — the newer
// checkpoints and cosignatures in the database and the checkpoint file.
// The database alone then looks intact, even to --witness-key; asking the
// witness for its latest cosigned checkpoint (--witness URL) catches it.
func TestWitnessCatchesTruncation(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	keyFile := c.db + ".signing-key.pem"
	w := startWitness(t, c.bin, filepath.Join(dir, "w"), pub)
	if errs := push(t, c.db, keyFile, w.url); errs[0] != nil {
		t.Fatal(errs[0])
	}
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var first int64
	raw.QueryRow(`SELECT max(seq) FROM audit_cosignatures`).Scan(&first)
	appendEntries(t, c.db, 2)
	if errs := push(t, c.db, keyFile, w.url); errs[0] != nil {
		t.Fatal(errs[0])
	}
	for _, q := range []string{
		"DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_tree_no_delete", "DROP TRIGGER audit_checkpoints_no_delete", "DROP TRIGGER audit_cosignatures_no_delete",
		"DELETE FROM audit_log WHERE seq > " + itoa64(first), "DELETE FROM audit_tree WHERE seq > " + itoa64(first),
		"DELETE FROM audit_checkpoints WHERE seq > " + itoa64(first), "DELETE FROM audit_cosignatures WHERE seq > " + itoa64(first),
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	os.Remove(strings.TrimSuffix(keyFile, ".pem") + ".checkpoints.jsonl")
	if out := c.ok("audit", "verify", "--pubkey", pub, "--witness-key", w.key); !strings.Contains(out, "intact") {
		t.Fatalf("the database alone: %s", out)
	}
	_, errOut, code := c.run("audit", "verify", "--pubkey", pub, "--witness-key", w.key, "--witness", w.url)
	if code != 2 || !strings.Contains(errOut, "tail was cut") {
		t.Fatalf("verify against the witness: exit %d\n%s", code, errOut)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// TestServePushesToWitnesses: serve --witness pushes its checkpoints to two
// witness processes and stores both cosignatures; with one witness down,
// decisions and checkpoints go on, and the other keeps cosigning.
func TestServePushesToWitnesses(t *testing.T) {
	dir := t.TempDir()
	c := &cli{t: t, bin: buildBinary(t), db: filepath.Join(dir, "zonevet.db"), dir: dir}
	c.initDemo()
	pub := strings.TrimSpace(c.ok("audit", "pubkey"))
	w1 := startWitness(t, c.bin, filepath.Join(dir, "w1"), pub)
	w2 := startWitness(t, c.bin, filepath.Join(dir, "w2"), pub)
	s := startServe(t, c.bin, c.db, "--witness", w1.url+","+w2.url, "--witness-interval", "200ms", "--checkpoint-interval", "300ms")
	if s.base == "" {
		t.Fatalf("serve did not start:\n%s", s.output())
	}
	raw, err := sql.Open("sqlite", c.db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cosigned := func(url string) int64 {
		var n sql.NullInt64
		raw.QueryRow(`SELECT max(seq) FROM audit_cosignatures WHERE witness_url = ?`, url).Scan(&n)
		return n.Int64
	}
	head := func() int64 {
		var n int64
		raw.QueryRow(`SELECT max(seq) FROM audit_log`).Scan(&n)
		return n
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30 s\n%s", what, s.output())
			}
		}
	}
	h := head()
	waitFor("both witnesses cosign the head", func() bool { return cosigned(w1.url) == h && cosigned(w2.url) == h })

	w2.stop()
	appendEntries(t, c.db, 2)
	waitFor("witness 1 cosigns the new head", func() bool { return cosigned(w1.url) == h+2 })
	if got := cosigned(w2.url); got != h {
		t.Fatalf("witness 2 is down, yet cosigned %d", got)
	}
	s.stop() // stderr is read whole at exit
	if !strings.Contains(s.output(), "checkpoint not cosigned") {
		t.Fatalf("no warning about the witness that is down:\n%s", s.output())
	}
}
