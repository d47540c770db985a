package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// The reference puller keeps a copy of the decision log outside the server,
// the way an audit office's nightly job would: it appends what is new to a
// JSON Lines file in the export's own format (so `zonevet audit verify
// --export` reads it offline), checks every page before it writes a byte of
// it, and refuses to go on when the server's log no longer extends what it
// holds. Its folder:
//
//	audit.jsonl       the entries, in seq order, with the checkpoints at their seqs
//	checkpoints.jsonl every checkpoint it has seen, one {"checkpoints":[…]} per line
//	pubkey            the signing key it trusts (pinned on the first run)
//	.lock             held while a run works, so two cron runs never interleave
const (
	pullLogFile        = "audit.jsonl"
	pullCheckpointFile = "checkpoints.jsonl"
	pullKeyFile        = "pubkey"
	pullLockFile       = ".lock"
)

const auditPullUsage = `  zonevet audit pull --from URL --token TOKEN --into DIR [--pubkey KEY] [--limit N] [--partial]
                                                            # append the server's new log entries to DIR/audit.jsonl, verified; cron-friendly ($ZONEVET_TOKEN)
`

// pullPage is the JSON page of GET /api/v1/audit/entries.
type pullPage struct {
	Entries     []engine.AuditEntry `json:"entries"`
	Complete    bool                `json:"complete"`
	Head        *engine.LogHead     `json:"head"`
	Checkpoint  *engine.Checkpoint  `json:"checkpoint"`
	Checkpoints []engine.Checkpoint `json:"checkpoints"`
	Next        int64               `json:"next"`
	More        bool                `json:"more"`
}

// errRefused is a page the puller will not file: the server's log is no
// longer the one it holds (cut, forked, altered) or a signature is bad.
type errRefused struct{ msg string }

func (e errRefused) Error() string { return e.msg }

func refuse(format string, args ...any) error { return errRefused{fmt.Sprintf(format, args...)} }

func runAuditPull(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("audit pull", flag.ContinueOnError)
	from := fs.String("from", "", "the server's address, e.g. https://zonevet.example (the API is under /api/v1)")
	token := fs.String("token", os.Getenv("ZONEVET_TOKEN"), "an API token with audit:read ($ZONEVET_TOKEN, kept out of the process list)")
	into := fs.String("into", "", "the folder holding the local copy (made if missing)")
	pubkey := fs.String("pubkey", "", "the checkpoint signing key to trust (from the operator, out of band); default: the key pinned in DIR, or the server's on the first run")
	limit := fs.Int("limit", 500, "entries per page (1–1000)")
	partial := fs.Bool("partial", false, "accept a filtered view (an auditor of some parks, a park-restricted token): each entry's own hash and every checkpoint's signature are checked, not the links between entries")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *from == "" || *into == "" || *token == "" {
		return errors.New("audit pull: --from, --token (or $ZONEVET_TOKEN) and --into are required\n" + auditPullUsage)
	}
	if *limit < 1 || *limit > engine.MaxPullPage {
		return fmt.Errorf("audit pull: --limit must be 1–%d", engine.MaxPullPage)
	}
	base, err := url.Parse(strings.TrimRight(*from, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return fmt.Errorf("audit pull: --from %q is not an http(s) address", *from)
	}
	if err := os.MkdirAll(*into, 0o750); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(*into, pullLockFile), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("audit pull: another pull is working in %s", *into)
	}
	p := &puller{api: base.String() + "/api/v1", token: *token, dir: *into, limit: *limit, partial: *partial,
		client: &http.Client{Timeout: 5 * time.Minute}, out: out}
	err = p.run(ctx, *pubkey)
	var r errRefused
	if errors.As(err, &r) {
		return exitError{code: 2, msg: "audit pull REFUSED: " + engine.EscapeText(r.msg) + "\nnothing of it was written; " + p.dir + " still holds the log as it was"}
	}
	return err
}

// puller is one run of `zonevet audit pull`.
type puller struct {
	api, token, dir string
	limit           int
	partial         bool // a filtered view: no links between entries to check
	client          *http.Client
	out             io.Writer

	trusted crypto.PublicKey
	seq     int64  // the last entry held
	hash    string // its hash
	seen    []engine.Checkpoint
	latest  *engine.Checkpoint // the latest checkpoint seen, on this run or before
}

func (p *puller) run(ctx context.Context, pubkey string) error {
	if err := p.loadKey(ctx, pubkey); err != nil {
		return err
	}
	if err := p.loadLocal(); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(p.dir, pullLogFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	start := p.seq
	for {
		pg, err := p.fetch(ctx)
		if err != nil {
			return err
		}
		lines, fresh, err := p.check(pg)
		if err != nil {
			return err
		}
		// The entries first, synced, then the checkpoints: a crash between
		// leaves checkpoints to fetch again, never a checkpoint the log
		// file does not reach.
		if len(lines) > 0 {
			if _, err := f.Write(lines); err != nil {
				return err
			}
			if err := f.Sync(); err != nil {
				return err
			}
		}
		if err := p.keep(fresh); err != nil {
			return err
		}
		if n := len(pg.Entries); n > 0 {
			p.seq, p.hash = pg.Entries[n-1].Seq, pg.Entries[n-1].Hash
		}
		if !pg.More {
			break
		}
	}
	msg := fmt.Sprintf("audit pull: %d new entries; %s holds #1–#%d, head %s", p.seq-start, filepath.Join(p.dir, pullLogFile), p.seq, p.hash)
	if p.latest != nil {
		msg += fmt.Sprintf("; latest checkpoint #%d signed %s", p.latest.Seq, p.latest.Time.Format(time.RFC3339))
	}
	fmt.Fprintln(p.out, msg)
	return nil
}

// loadKey takes the key given, or the one pinned in the folder, or on the
// very first run the server's (pinned then, with its fingerprint printed for
// the operator to compare). A key given that differs from the pinned one is
// refused: the puller does not change whom it trusts by itself.
func (p *puller) loadKey(ctx context.Context, given string) error {
	path := filepath.Join(p.dir, pullKeyFile)
	pinned, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if len(pinned) > 0 {
		if p.trusted, err = engine.ParsePublicKey(strings.TrimSpace(string(pinned))); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if given != "" {
			k, err := engine.ParsePublicKey(given)
			if err != nil {
				return err
			}
			if engine.PublicKeyString(k) != engine.PublicKeyString(p.trusted) {
				return fmt.Errorf("audit pull: --pubkey differs from the key pinned in %s; a new key needs a new folder (or remove the pin knowingly)", path)
			}
		}
		return nil
	}
	if given != "" {
		if p.trusted, err = engine.ParsePublicKey(given); err != nil {
			return err
		}
	} else {
		var k struct{ Key, Fingerprint string }
		if err := p.get(ctx, "/audit/pubkey", &k); err != nil {
			return err
		}
		if p.trusted, err = engine.ParsePublicKey(k.Key); err != nil {
			return fmt.Errorf("the server's public key: %w", err)
		}
		fmt.Fprintf(p.out, "audit pull: trusting the server's signing key %s (fingerprint %s) from now on; compare the fingerprint with the operator's\n",
			engine.PublicKeyString(p.trusted), engine.KeyFingerprint(p.trusted))
	}
	return os.WriteFile(path, []byte(engine.PublicKeyString(p.trusted)+"\n"), 0o640)
}

// loadLocal finds where the local copy ends: the last whole line of the log
// file (a line torn by a crash is cut off) and the checkpoints seen.
func (p *puller) loadLocal() error {
	p.hash = engine.GenesisHash
	path := filepath.Join(p.dir, pullLogFile)
	if err := cutTornLine(path); err != nil {
		return err
	}
	last, err := lastLine(path)
	if err != nil {
		return err
	}
	if last != nil {
		var e engine.AuditEntry
		if _, err := engine.ParseEntryLine(last, &e); err != nil {
			return fmt.Errorf("%s: last line: %w", path, err)
		}
		p.seq, p.hash = e.Seq, e.Hash
	}
	cf, err := os.Open(filepath.Join(p.dir, pullCheckpointFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer cf.Close()
	if p.seen, err = engine.ReadExportCheckpoints(cf); err != nil {
		return fmt.Errorf("%s: %w", pullCheckpointFile, err)
	}
	for i := range p.seen {
		if p.latest == nil || p.seen[i].Seq >= p.latest.Seq {
			p.latest = &p.seen[i]
		}
	}
	return nil
}

// fetch gets the page after the last entry held, waiting out the server's
// rate limit (a cron job has time; it must not give up at the first 429).
func (p *puller) fetch(ctx context.Context) (*pullPage, error) {
	var pg pullPage
	path := fmt.Sprintf("/audit/entries?after=%d&limit=%d", p.seq, p.limit)
	if err := p.get(ctx, path, &pg); err != nil {
		return nil, err
	}
	return &pg, nil
}

// get GETs an API path into v; an API error comes back in its own words.
func (p *puller) get(ctx context.Context, path string, v any) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.api+path, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+p.token)
		req.Header.Set("Accept", "application/json")
		resp, err := p.client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusTooManyRequests && attempt < 20 {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			select {
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		if resp.StatusCode != http.StatusOK {
			var e struct{ Code, Field, Message string }
			if json.Unmarshal(body, &e) == nil && e.Message != "" {
				return fmt.Errorf("audit pull: %s %s: %d %s: %s", req.Method, path, resp.StatusCode, e.Code, e.Message)
			}
			return fmt.Errorf("audit pull: %s %s: %s", req.Method, path, resp.Status)
		}
		if err := json.Unmarshal(body, v); err != nil {
			return fmt.Errorf("audit pull: %s: %w", path, err)
		}
		return nil
	}
}

// check verifies a page against what is held and returns the bytes to
// append (entries in the export's format, checkpoints on their lines) and
// the checkpoints not seen before. Nothing is written before it passes.
func (p *puller) check(pg *pullPage) ([]byte, []engine.Checkpoint, error) {
	if pg.Complete && p.partial {
		return nil, nil, refuse("the server gives this token the whole log, but --partial was asked for: pull it whole (without --partial) into a folder of its own")
	}
	if !pg.Complete {
		if !p.partial {
			return nil, nil, refuse("the server gives this token a filtered view of the log (a park-restricted token, or an auditor of some parks only): pull it with --partial, which checks each entry's own hash but cannot check what lies between entries")
		}
		return p.checkPartial(pg)
	}
	if pg.Head.Seq < p.seq {
		return nil, nil, refuse("the server's log ends at #%d, but %d entries are held here: its log was cut", pg.Head.Seq, p.seq)
	}
	if pg.Head.Seq == p.seq && pg.Head.Hash != p.hash {
		return nil, nil, refuse("the server's entry #%d has hash %s, the one held here %s: its log was rewritten (forked)", p.seq, pg.Head.Hash, p.hash)
	}
	// The pinned key's kind says the log's hash: SM3 for an sm2 key.
	suite, _ := tlog.SuiteOfKey(p.trusted)
	v := &engine.ChainVerifier{Head: p.hash, HeadSeq: p.seq, Suite: suite}
	for i := range pg.Entries {
		if err := v.Check(&pg.Entries[i]); err != nil {
			if i == 0 && pg.Entries[0].Seq == p.seq+1 && pg.Entries[0].PrevHash != p.hash {
				return nil, nil, refuse("the server's entry #%d does not follow the entry #%d held here (its previous hash is %s, ours %s): the server's log was rewritten (forked)",
					pg.Entries[0].Seq, p.seq, pg.Entries[0].PrevHash, p.hash)
			}
			return nil, nil, refuse("page after #%d: %v", p.seq, err)
		}
	}
	newSeq, newHash := v.HeadSeq, v.Head
	// Every checkpoint: signed by the trusted key, and agreeing with the
	// entries it names where those are at hand (the page, or the last held).
	inPage := make(map[int64]string, len(pg.Entries))
	for _, e := range pg.Entries {
		inPage[e.Seq] = e.Hash
	}
	fresh, err := p.pageCheckpoints(pg, inPage, true)
	if err != nil {
		return nil, nil, err
	}
	if pg.Head.Seq < newSeq || pg.Head.Seq == newSeq && pg.Head.Hash != newHash {
		return nil, nil, refuse("the server's head #%d does not match the entries it sent", pg.Head.Seq)
	}
	return p.lines(pg.Entries, fresh), fresh, nil
}

// lines renders a checked page as the export's JSON Lines, each entry with
// the checkpoints at its seq, in the order seen (which is the server's:
// seq, then time).
func (p *puller) lines(entries []engine.AuditEntry, fresh []engine.Checkpoint) []byte {
	cps := append(append([]engine.Checkpoint(nil), p.seen...), fresh...)
	var b []byte
	for i := range entries {
		e := &entries[i]
		var at []engine.Checkpoint
		for _, c := range cps {
			if c.Seq == e.Seq {
				at = append(at, c)
			}
		}
		b = append(engine.AppendEntryJSON(b, e, at), '\n')
	}
	return b
}

// pageCheckpoints checks every checkpoint of a page: signed by the trusted
// key, and vouching for the hash of each entry it names that the page holds
// (and, for the whole log, that the last entry held here has); it returns
// those not seen before.
func (p *puller) pageCheckpoints(pg *pullPage, inPage map[int64]string, whole bool) ([]engine.Checkpoint, error) {
	var fresh []engine.Checkpoint
	all := append([]engine.Checkpoint(nil), pg.Checkpoints...)
	if pg.Checkpoint != nil {
		all = append(all, *pg.Checkpoint)
	}
	for _, c := range all {
		if err := c.Verify(p.trusted); err != nil {
			return nil, refuse("%v", err)
		}
		if h, ok := inPage[c.Seq]; ok && h != c.Hash {
			return nil, refuse("checkpoint #%d vouches for hash %s, but the server's entry #%d has %s", c.Seq, c.Hash, c.Seq, h)
		}
		if whole && c.Seq == p.seq && c.Hash != p.hash {
			return nil, refuse("checkpoint #%d vouches for hash %s, but the entry held here has %s: the server's log was rewritten", c.Seq, c.Hash, p.hash)
		}
		if !p.known(c) && !slices.ContainsFunc(fresh, func(f engine.Checkpoint) bool { return f.Seq == c.Seq && f.Signature == c.Signature }) {
			fresh = append(fresh, c)
		}
	}
	// The checkpoints seen before must still hold on the server's log: the
	// latest it shows now is no older, and where the page reaches the seq
	// of one seen before, the entry there has its hash.
	if p.latest != nil && (pg.Checkpoint == nil || pg.Checkpoint.Seq < p.latest.Seq) {
		return nil, refuse("the server's latest checkpoint is older than #%d, seen here before: checkpoints were removed or the log cut", p.latest.Seq)
	}
	for _, c := range p.seen {
		if h, ok := inPage[c.Seq]; ok && h != c.Hash {
			return nil, refuse("checkpoint #%d, seen here before, vouches for %s; the server's entry #%d now has %s: the log was rewritten", c.Seq, c.Hash, c.Seq, h)
		}
	}
	return fresh, nil
}

// checkPartial checks a page of a filtered view: seqs rising past what is
// held, each entry's own hash, every checkpoint's signature, and the hash of
// each checkpoint whose entry the page holds.
func (p *puller) checkPartial(pg *pullPage) ([]byte, []engine.Checkpoint, error) {
	last := p.seq
	inPage := make(map[int64]string, len(pg.Entries))
	for i := range pg.Entries {
		e := &pg.Entries[i]
		if e.Seq <= last {
			return nil, nil, refuse("page after #%d: entry #%d is not after #%d: the server's log was reordered or cut", p.seq, e.Seq, last)
		}
		if engine.ChainHash(e.PrevHash, e) != e.Hash {
			return nil, nil, refuse("entry #%d: content does not match its hash (entry altered)", e.Seq)
		}
		last = e.Seq
		inPage[e.Seq] = e.Hash
	}
	fresh, err := p.pageCheckpoints(pg, inPage, false)
	if err != nil {
		return nil, nil, err
	}
	return p.lines(pg.Entries, fresh), fresh, nil
}

func (p *puller) known(c engine.Checkpoint) bool {
	for _, s := range p.seen {
		if s.Seq == c.Seq && s.Signature == c.Signature {
			return true
		}
	}
	return false
}

// keep appends checkpoints newly seen to the checkpoint file.
func (p *puller) keep(fresh []engine.Checkpoint) error {
	if len(fresh) == 0 {
		return nil
	}
	f, err := os.OpenFile(filepath.Join(p.dir, pullCheckpointFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return err
	}
	line, err := json.Marshal(struct {
		Checkpoints []engine.Checkpoint `json:"checkpoints"`
	}{fresh})
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	p.seen = append(p.seen, fresh...)
	for i := range p.seen {
		if p.latest == nil || p.seen[i].Seq >= p.latest.Seq {
			p.latest = &p.seen[i]
		}
	}
	return f.Close()
}

// cutTornLine removes a last line without its newline: the start of a page
// a crash interrupted, fetched again on this run.
func cutTornLine(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	end := st.Size()
	buf := make([]byte, 64<<10)
	for pos := end; pos > 0; {
		n := min(int64(len(buf)), pos)
		pos -= n
		if _, err := f.ReadAt(buf[:n], pos); err != nil {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if cut := pos + int64(i) + 1; cut != end {
				return f.Truncate(cut)
			}
			return nil
		}
	}
	return f.Truncate(0)
}

// lastLine returns the file's last line, nil for an empty or missing file.
func lastLine(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return nil, err
	}
	// Read back from the end in growing windows until a whole line is in.
	for window := int64(64 << 10); ; window *= 4 {
		start := max(st.Size()-window, 0)
		buf := make([]byte, st.Size()-start)
		if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = bytes.TrimRight(buf, "\n")
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			return buf[i+1:], nil
		}
		if start == 0 {
			return buf, nil
		}
	}
}
