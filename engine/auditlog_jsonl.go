package engine

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The JSON Lines export is one AuditEntry per line, exactly as encoding/json
// writes it (HTML escaping off), so any JSON tool reads it. A checkpoint
// rides on the line of the entry it vouches for, as an extra "checkpoints"
// array; checkpoints naming entries past the last line ride on the last line
// (that is how a verifier learns the log was cut). One line per entry keeps
// the file usable by tools that expect exactly that.
//
// The encoder and decoder below are hand-written for speed (an export or a
// verification of a million entries is mostly this); the encoder's output is
// byte-identical to encoding/json's (a test holds it to that), and the
// decoder falls back to encoding/json for any line it does not expect.

// AppendEntryJSON appends e as one JSON object, with cps as its
// "checkpoints" field when there are any, and no newline.
func AppendEntryJSON(b []byte, e *AuditEntry, cps []Checkpoint) []byte {
	for i := range EntryFields {
		f := &EntryFields[i]
		b = append(b, f.jsonKey...)
		switch f.Kind {
		case FieldInt:
			b = strconv.AppendInt(b, *f.num(e), 10)
		case FieldTime:
			// As encoding/json writes a time.Time: RFC 3339 in its own zone.
			b = append(b, '"')
			b = f.tm(e).AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		default:
			b = appendJSONString(b, *f.text(e))
		}
	}
	if len(cps) > 0 {
		b = append(b, `,"checkpoints":[`...)
		for i := range cps {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCheckpointJSON(b, &cps[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

func appendCheckpointJSON(b []byte, c *Checkpoint) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, c.Seq, 10)
	b = append(b, `,"hash":`...)
	b = appendJSONString(b, c.Hash)
	b = append(b, `,"time":"`...)
	b = c.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","key":`...)
	b = appendJSONString(b, c.Key)
	b = append(b, `,"sig":`...)
	b = appendJSONString(b, c.Signature)
	if c.Root != "" {
		b = append(b, `,"root":`...)
		b = appendJSONString(b, c.Root)
	}
	if c.Note != "" {
		b = append(b, `,"note":`...)
		b = appendJSONString(b, c.Note)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// jsonPlain[c] says byte c of valid UTF-8 goes into a JSON string as it is:
// not a control character, quote or backslash, and not 0xE2, which begins
// U+2028 and U+2029 (escaped by encoding/json).
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\' && c != 0xE2
	}
	return t
}()

// appendJSONString quotes s as encoding/json does with HTML escaping off:
// control characters escaped, U+2028/U+2029 escaped, invalid UTF-8 as U+FFFD.
// Valid UTF-8 (all but tampered or odd text) is copied in runs between the
// few bytes that need escaping, without decoding a rune.
func appendJSONString(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		return appendJSONStringRunes(b, s)
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonPlain[c] {
			continue
		}
		if c == 0xE2 {
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9) {
				b = append(b, s[start:i]...)
				b = append(b, '\\', 'u', '2', '0', '2', "89"[s[i+2]-0xA8])
				i += 2
				start = i + 1
			}
			continue
		}
		b = append(b, s[start:i]...)
		b = appendJSONEscape(b, c)
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONEscape appends the escape of an ASCII byte that cannot go into a
// JSON string as it is: a quote, a backslash or a control character.
func appendJSONEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendJSONStringRunes is appendJSONString rune by rune, for text that is
// not valid UTF-8.
func appendJSONStringRunes(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = appendJSONEscape(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// exportLine is a line of the export as encoding/json sees it.
type exportLine struct {
	AuditEntry
	Checkpoints []Checkpoint `json:"checkpoints"`
}

// ParseEntryLine reads one export line into e and returns the checkpoints it
// carries. Lines the fast path does not expect go through encoding/json.
func ParseEntryLine(line []byte, e *AuditEntry) ([]Checkpoint, error) {
	*e = AuditEntry{}
	// A line with checkpoints fails the fast path at that key.
	if parseFlatEntry(line, e) {
		return nil, nil
	}
	var x exportLine
	if err := json.Unmarshal(line, &x); err != nil {
		return nil, err
	}
	*e = x.AuditEntry
	return x.Checkpoints, nil
}

// parseFlatEntry parses an object of string and integer members into e; it
// returns false on anything else, leaving the line to encoding/json.
func parseFlatEntry(p []byte, e *AuditEntry) bool {
	// Invalid UTF-8 anywhere is encoding/json's to judge (it turns bytes
	// inside strings into U+FFFD). Valid, every string on the line is too,
	// and is taken as a substring of one copy of the line: one allocation per
	// line rather than one per field.
	if !utf8.Valid(p) {
		return false
	}
	ps := string(p)
	i := skipWS(p, 0)
	if i >= len(p) || p[i] != '{' {
		return false
	}
	i++
	next := 0
	for first := true; ; first = false {
		i = skipWS(p, i)
		if first && i < len(p) && p[i] == '}' {
			return skipWS(p, i+1) == len(p)
		}
		if i >= len(p) || p[i] != '"' {
			return false
		}
		j := bytes.IndexByte(p[i+1:], '"')
		if j < 0 {
			return false
		}
		key := p[i+1 : i+1+j]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = skipWS(p, i+2+j)
		if i >= len(p) || p[i] != ':' {
			return false
		}
		i = skipWS(p, i+1)
		if i >= len(p) {
			return false
		}
		fi := entryFieldIndex(key, next)
		if fi < 0 {
			// A key we do not know (encoding/json matches keys
			// case-insensitively, and "checkpoints" is an array): let it decide.
			return false
		}
		next = fi + 1
		f := &EntryFields[fi]
		if p[i] == '"' {
			if f.Kind == FieldInt {
				return false // a number's field given a string
			}
			s, n, ok := parseJSONString(p, ps, i)
			if !ok {
				return false
			}
			i = n
			if f.Kind == FieldTime {
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return false
				}
				*f.tm(e) = t
			} else {
				*f.text(e) = s
			}
		} else {
			if f.Kind != FieldInt {
				return false
			}
			k := i
			if k < len(p) && p[k] == '-' {
				k++
			}
			d := k
			for k < len(p) && p[k] >= '0' && p[k] <= '9' {
				k++
			}
			// Only JSON's canonical integers; "01", "1.0", "1e3" go to encoding/json.
			if k == d || (p[d] == '0' && k > d+1) || k < len(p) && (p[k] == '.' || p[k] == 'e' || p[k] == 'E') {
				return false
			}
			n, err := strconv.ParseInt(string(p[i:k]), 10, 64)
			if err != nil {
				return false
			}
			i = k
			*f.num(e) = n
		}
		i = skipWS(p, i)
		if i < len(p) && p[i] == ',' {
			i++
			continue
		}
		if i < len(p) && p[i] == '}' {
			return skipWS(p, i+1) == len(p)
		}
		return false
	}
}

func skipWS(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
		i++
	}
	return i
}

// parseJSONString decodes the string starting at p[i] == '"' and returns it
// and the index after the closing quote; ok is false for anything
// encoding/json would decode differently (raw control bytes). ps is p as a
// string: a string without escapes is a substring of it. p must be valid
// UTF-8 (the caller checks the whole line once).
func parseJSONString(p []byte, ps string, i int) (string, int, bool) {
	i++
	start := i
	for i < len(p) && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 {
		i++
	}
	if i < len(p) && p[i] == '"' {
		return ps[start:i], i + 1, true
	}
	// Escapes only shrink: the decoded string is at most as long as the raw
	// one up to the closing quote, so one buffer of that size will do.
	end := i
	for end < len(p) && p[end] != '"' {
		if p[end] == '\\' {
			end++
		}
		end++
	}
	buf := make([]byte, 0, min(end, len(p))-start)
	buf = append(buf, p[start:i]...)
	for i < len(p) {
		c := p[i]
		switch {
		case c == '"':
			return string(buf), i + 1, true
		case c < 0x20:
			return "", 0, false
		case c != '\\':
			j := i + 1
			for j < len(p) && p[j] != '"' && p[j] != '\\' && p[j] >= 0x20 {
				j++
			}
			buf = append(buf, p[i:j]...)
			i = j
			continue
		}
		if i+1 >= len(p) {
			return "", 0, false
		}
		switch p[i+1] {
		case '"', '\\', '/':
			buf = append(buf, p[i+1])
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'u':
			r, ok := hex4(p, i+2)
			if !ok {
				return "", 0, false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(p) && p[i] == '\\' && p[i+1] == 'u' {
					r2, ok = hex4(p, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", 0, false
		}
		i += 2
	}
	return "", 0, false
}

func hex4(p []byte, i int) (rune, bool) {
	if i+4 > len(p) {
		return 0, false
	}
	var r rune
	for _, c := range p[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// VerifyExport verifies a JSON Lines export offline: the chain, every
// checkpoint's signature against trusted, every checkpoint's head on the
// chain, and that no checkpoint lies past the end. partial is for exports of
// a filtered view (see NewLogVerifier). Extra checkpoints, e.g. from an older
// export kept elsewhere, are checked against this file's chain too: that is
// how a chain recomputed after those checkpoints were taken, and then
// exported together with new checkpoints over the forged history, is caught.
//
// Parsing and hashing a line need nothing from the lines before it, so
// workers do them in batches (one per core) while the reader reads on; what
// needs the order — the links between entries, the checkpoints — is checked
// here as the batches come back in file order. The first error, a bad line
// or a read error, is the first in the file, as a line-by-line reading
// would find it.
func VerifyExport(r io.Reader, trusted crypto.PublicKey, partial bool, extra []Checkpoint) (*VerifyResult, error) {
	return verifyExport(r, trusted, partial, extra, runtime.GOMAXPROCS(0))
}

func verifyExport(r io.Reader, trusted crypto.PublicKey, partial bool, extra []Checkpoint, workers int) (*VerifyResult, error) {
	start := time.Now()
	v := NewLogVerifier(trusted, partial)
	v.AddCheckpoints(extra)
	ctx, cancel := context.WithCancel(context.Background())
	batches := parseExportLines(ctx, r, workers)
	defer func() {
		cancel()
		for range batches { // let the reader and the workers finish
		}
	}()
	for b := range batches {
		<-b.done
		for i := range b.entries {
			if len(b.cps[i]) > 0 {
				v.AddCheckpoints(b.cps[i])
			}
			v.entry(&b.entries[i], b.hashOK[i])
		}
		if b.err != nil {
			return nil, b.err
		}
		b.release()
	}
	res := v.Finish()
	res.Duration = time.Since(start)
	return res, nil
}

// ReadExportCheckpoints collects every checkpoint carried by an export, to
// check them against another export's chain.
func ReadExportCheckpoints(r io.Reader) ([]Checkpoint, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var out []Checkpoint
	for n := 1; ; n++ {
		line, err := readLine(br)
		if len(line) > 0 && bytes.Contains(line, []byte(`"checkpoints"`)) {
			var x exportLine
			if jerr := json.Unmarshal(line, &x); jerr != nil {
				return nil, fmt.Errorf("line %d: %w", n, jerr)
			}
			out = append(out, x.Checkpoints...)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
	}
}

// readLine returns the next line without its newline; a long line (a rule
// report in a payload) is assembled from the reader's fragments.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	return bytes.TrimRight(line, "\r\n"), err
}
