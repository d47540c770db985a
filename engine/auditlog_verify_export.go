package engine

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"zonevet/engine/tlog"
)

// An export is verified in batches of lines: the reader fills a batch, a
// worker parses and hashes it, and the verifier takes the batches back in
// file order. A batch's memory is reused; a few of them are in flight at a
// time, so memory stays constant however long the file.
const (
	exportBatchBytes = 256 << 10
	exportBatchLines = 512
)

// exportBatch is a run of lines and, once done is closed, what a worker made
// of them: entries[i] parsed from line i, the checkpoints it carried, and
// whether its hash is right. err is the batch's first error (a line that
// does not parse, or the read error after its last line); entries stop
// before the bad line.
type exportBatch struct {
	data    []byte
	ends    []int // end of each line in data
	lineNo  []int // its line number in the file
	entries []AuditEntry
	cps     [][]Checkpoint
	hashOK  []*tlog.Suite // the suite whose chain hash the entry has, nil for none
	readErr error
	err     error
	done    chan struct{}
	pool    *sync.Pool
	scratch []byte
}

func (b *exportBatch) release() {
	b.data, b.ends, b.lineNo = b.data[:0], b.ends[:0], b.lineNo[:0]
	b.readErr, b.err = nil, nil
	b.pool.Put(b)
}

// work parses and hashes the batch's lines.
func (b *exportBatch) work() {
	defer close(b.done)
	n := len(b.ends)
	if cap(b.entries) < n {
		b.entries, b.cps, b.hashOK = make([]AuditEntry, n), make([][]Checkpoint, n), make([]*tlog.Suite, n)
	}
	b.entries, b.cps, b.hashOK = b.entries[:n], b.cps[:n], b.hashOK[:n]
	from := 0
	for i, end := range b.ends {
		line := b.data[from:end]
		from = end
		cps, err := ParseEntryLine(line, &b.entries[i])
		if err != nil {
			b.entries = b.entries[:i]
			b.err = fmt.Errorf("line %d: %w", b.lineNo[i], err)
			return
		}
		b.cps[i] = cps
		var last *tlog.Suite
		if i > 0 {
			last = b.hashOK[i-1]
		}
		b.scratch, b.hashOK[i] = chainHashSuite(b.scratch, &b.entries[i], last)
	}
	b.err = b.readErr
}

// parseExportLines reads r and returns its batches in file order, each
// handed to one of workers goroutines; the channel closes after the last
// batch, after a read error (on its batch), or once ctx is done. Whoever
// stops early cancels ctx and drains the channel.
func parseExportLines(ctx context.Context, r io.Reader, workers int) <-chan *exportBatch {
	workers = max(workers, 1)
	order := make(chan *exportBatch, 2*workers)
	work := make(chan *exportBatch, 2*workers+1)
	pool := &sync.Pool{}
	pool.New = func() any { return &exportBatch{pool: pool} }
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.work()
			}
		}()
	}
	go func() {
		defer close(order)
		defer func() { close(work); wg.Wait() }()
		br := bufio.NewReaderSize(r, 1<<20)
		b := newExportBatch(pool)
		send := func() bool {
			select {
			case order <- b:
			case <-ctx.Done():
				return false
			}
			work <- b // never blocks: work holds no more than order and the batch being checked
			b = newExportBatch(pool)
			return true
		}
		for n := 1; ; n++ {
			line, err := readLine(br)
			if len(line) > 0 {
				b.data = append(b.data, line...)
				b.ends = append(b.ends, len(b.data))
				b.lineNo = append(b.lineNo, n)
			}
			if errors.Is(err, io.EOF) {
				if len(b.ends) > 0 {
					send()
				}
				return
			} else if err != nil {
				b.readErr = err
				send()
				return
			}
			if (len(b.data) >= exportBatchBytes || len(b.ends) >= exportBatchLines) && !send() {
				return
			}
		}
	}()
	return order
}

func newExportBatch(pool *sync.Pool) *exportBatch {
	b := pool.Get().(*exportBatch)
	b.done = make(chan struct{})
	return b
}
