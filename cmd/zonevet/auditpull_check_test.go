package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"zonevet/engine"
)

// TestPullerRefusesCheckpointForkingHeldEntry: the server sends entries
// that follow the copy held here, yet a checkpoint signed with the trusted
// key vouches for another hash at the last entry held (a split view: the
// signer showed someone else a different log). Nothing on the page is
// wrong by itself, and the held entry is not on the page: only the check of
// the checkpoint against the held hash can see it.
func TestPullerRefusesCheckpointForkingHeldEntry(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	var log []engine.AuditEntry
	prev := engine.GenesisHash
	for seq := int64(1); seq <= 4; seq++ {
		e := engine.AuditEntry{Seq: seq, Time: at, Park: "qingyuan", ProjectID: 1, Actor: "promoter1", Event: "submit", PrevHash: prev}
		e.Hash = engine.ChainHash(prev, &e)
		prev = e.Hash
		log = append(log, e)
	}
	held := log[1] // entries 1 and 2 are held here
	page := func(cps ...engine.Checkpoint) *pullPage {
		head := log[3]
		good := engine.SignCheckpoint(key, head.Seq, head.Hash, at)
		return &pullPage{Entries: log[2:], Complete: true, Head: &engine.LogHead{Seq: head.Seq, Hash: head.Hash}, Checkpoint: &good, Checkpoints: cps}
	}
	puller := func() *puller { return &puller{trusted: pub, seq: held.Seq, hash: held.Hash} }

	if _, fresh, err := puller().check(page()); err != nil || len(fresh) != 1 {
		t.Fatalf("a page that follows the held copy: fresh %d, %v", len(fresh), err)
	}
	forked := engine.SignCheckpoint(key, held.Seq, strings.Repeat("ab", 32), at)
	_, _, err = puller().check(page(forked))
	if _, ok := err.(errRefused); !ok || !strings.Contains(err.Error(), "entry held here") {
		t.Fatalf("a signed checkpoint forking the held entry: %v, want refused naming the entry held here", err)
	}
}
