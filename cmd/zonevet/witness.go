package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"zonevet/engine"
	"zonevet/engine/tlog"
)

// witnessUsage is the witness part of the usage text.
const witnessUsage = `  zonevet witness --log-key KEY [--listen ADDR] [--dir DIR] [--name NAME] # an independent witness: cosigns the decision log's checkpoints (run by the audit office, on its own machine)
`

// runWitness runs the witness: its own key and state in --dir (never the
// zone's database), HTTP on --listen with C2SP tlog-witness's
// add-checkpoint, and GET /latest?origin=… for the last cosigned checkpoint.
func runWitness(ctx context.Context, args []string, out io.Writer) error {
	fs, _ := newFlags("witness")
	listen := fs.String("listen", "127.0.0.1:7380", "address to listen on (host:port; port 0 picks one)")
	dir := fs.String("dir", "zonevet-witness", "folder of the witness's key, state and refusal log")
	name := fs.String("name", "", "the witness's key name (default zonevet-witness/<key fingerprint>)")
	logKey := fs.String("log-key", "", `the decision log's checkpoint public key ("ed25519:…", "sm2:…" or a file), obtained from the zone independently`)
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	if *logKey == "" {
		return errors.New("witness: give the log's public key with --log-key (`zonevet audit pubkey` on the zone's server)")
	}
	lk, err := engine.ParsePublicKey(*logKey)
	if err != nil {
		return err
	}
	// The witness's own key is Ed25519 whatever the log's suite: its
	// cosignatures are C2SP tlog-cosignature/v1, which is Ed25519 only.
	signer, _, err := engine.LoadOrCreateSigningKey(filepath.Join(*dir, "witness-key.pem"))
	if err != nil {
		return err
	}
	key, ok := signer.(ed25519.PrivateKey)
	if !ok {
		return errors.New("witness: witness-key.pem is not an Ed25519 key")
	}
	pub := key.Public().(ed25519.PublicKey)
	if *name == "" {
		*name = "zonevet-witness/" + strings.ReplaceAll(engine.KeyFingerprint(pub)[:9], ":", "")
	}
	w := &tlog.Witness{Name: *name, Key: key, LogKey: lk, State: filepath.Join(*dir, "state.json"),
		Refused: filepath.Join(*dir, "refusals.jsonl"), Now: time.Now}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: witnessHandler(w), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "zonevet witness %s listening on http://%s\nwitness key %s=%s\n", *name, ln.Addr(), *name, engine.PublicKeyString(pub))
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// witnessHandler serves add-checkpoint: a body of "old SIZE", the
// consistency proof's hashes one per line in base64, a blank line, then the
// signed checkpoint. 200 carries the cosignature line; 409 the size the
// witness holds (text/x.tlog.size); 403, 400 and 422 are refusals, logged.
func witnessHandler(w *tlog.Witness) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /add-checkpoint", func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		old, proof, note, err := parseAddCheckpoint(string(body))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		line, err := w.AddCheckpoint(old, proof, note)
		var we *tlog.WitnessError
		switch {
		case errors.As(err, &we) && we.Status == http.StatusConflict:
			rw.Header().Set("Content-Type", "text/x.tlog.size")
			rw.WriteHeader(http.StatusConflict)
			fmt.Fprintf(rw, "%d\n", we.KnownSize)
		case errors.As(err, &we):
			http.Error(rw, we.Msg, we.Status)
		case err != nil:
			http.Error(rw, err.Error(), http.StatusInternalServerError)
		default:
			io.WriteString(rw, line)
		}
	})
	mux.HandleFunc("GET /latest", func(rw http.ResponseWriter, r *http.Request) {
		note, err := w.Latest(r.URL.Query().Get("origin"))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		if note == "" {
			http.NotFound(rw, r)
			return
		}
		io.WriteString(rw, note)
	})
	return mux
}

func parseAddCheckpoint(body string) (uint64, [][]byte, string, error) {
	head, note, ok := strings.Cut(body, "\n\n")
	if !ok {
		return 0, nil, "", errors.New("add-checkpoint: no blank line before the checkpoint")
	}
	lines := strings.Split(head, "\n")
	sizeText, ok := strings.CutPrefix(lines[0], "old ")
	old, err := strconv.ParseUint(sizeText, 10, 64)
	if !ok || err != nil {
		return 0, nil, "", errors.New(`add-checkpoint: the first line must be "old SIZE"`)
	}
	var proof [][]byte
	for _, l := range lines[1:] {
		h, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			return 0, nil, "", errors.New("add-checkpoint: a proof line is not base64")
		}
		proof = append(proof, h)
	}
	return old, proof, note, nil
}

// httpWitness is a witness over HTTP, for serve --witness.
type httpWitness struct {
	url    string
	client *http.Client
}

func (h httpWitness) AddCheckpoint(ctx context.Context, oldSize int64, proof [][]byte, note string) (string, int64, bool, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "old %d\n", oldSize)
	for _, p := range proof {
		b.WriteString(base64.StdEncoding.EncodeToString(p) + "\n")
	}
	b.WriteString("\n" + note)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(h.url, "/")+"/add-checkpoint", strings.NewReader(b.String()))
	if err != nil {
		return "", 0, false, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return "", 0, false, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch resp.StatusCode {
	case http.StatusOK:
		line := string(body)
		if !strings.HasPrefix(line, "— ") || !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
			return "", 0, false, errors.New("the witness answered something other than a signature line")
		}
		return line, 0, false, nil
	case http.StatusConflict:
		n, err := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
		if err != nil {
			return "", 0, false, errors.New("the witness answered 409 without its size")
		}
		return "", n, true, fmt.Errorf("the witness holds size %d", n)
	}
	return "", 0, false, fmt.Errorf("the witness refused (%d): %s", resp.StatusCode, strings.TrimSpace(string(body)))
}

// runWitnessPush pushes the latest checkpoint to every witness every
// interval until ctx ends. A witness that is down is retried on the next
// round; decisions never wait for it.
func runWitnessPush(ctx context.Context, l *engine.AuditLog, urls []string, interval time.Duration, logger *slog.Logger) {
	client := &http.Client{Timeout: 10 * time.Second}
	failing := map[string]bool{}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for _, u := range urls {
			_, err := l.PushCheckpoint(ctx, u, httpWitness{url: u, client: client})
			if err != nil && ctx.Err() == nil {
				var de *engine.Error
				if errors.As(err, &de) && de.Code == engine.ECONFLICT {
					continue // no checkpoint with a tree yet
				}
				if !failing[u] {
					logger.Warn("witness: checkpoint not cosigned; it waits and is sent again", "witness", u, "err", err)
				}
				failing[u] = true
				l.SetWitnessError(u, err.Error())
				continue
			}
			failing[u] = false
			l.SetWitnessError(u, "")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
