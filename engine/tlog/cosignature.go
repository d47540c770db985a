package tlog

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Cosignatures (C2SP tlog-cosignature, Ed25519 "cosignature/v1"): a
// witness's note signature line over a checkpoint, saying that as of its
// time this is the largest consistent tree the witness has seen for the
// log. The signed message is "cosignature/v1\n", "time <unix seconds>\n",
// then the checkpoint's whole body; the signature is the 8-byte big-endian
// time followed by the Ed25519 signature, after the key ID.

const cosignatureAlg = 0x04

// CosignerKeyID is the 4-byte key ID of an Ed25519 cosigner: SHA-256 of
// the name, a newline, the algorithm byte 0x04 and the public key.
func CosignerKeyID(name string, pub ed25519.PublicKey) [4]byte {
	h := sha256.New()
	h.Write([]byte(name + "\n"))
	h.Write([]byte{cosignatureAlg})
	h.Write(pub)
	var id [4]byte
	copy(id[:], h.Sum(nil))
	return id
}

func cosignedMessage(body string, t uint64) []byte {
	return []byte("cosignature/v1\ntime " + strconv.FormatUint(t, 10) + "\n" + body)
}

// Cosign returns the signature line "— name base64(keyID || time || sig)"
// of a cosignature over the checkpoint body at time t.
func Cosign(name string, key ed25519.PrivateKey, body string, t time.Time) string {
	ts := uint64(t.Unix())
	id := CosignerKeyID(name, key.Public().(ed25519.PublicKey))
	sig := make([]byte, 0, 4+8+ed25519.SignatureSize)
	sig = append(sig, id[:]...)
	sig = binary.BigEndian.AppendUint64(sig, ts)
	sig = append(sig, ed25519.Sign(key, cosignedMessage(body, ts))...)
	return "— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

// VerifyCosignature finds name's signature line in a note (its text and
// signature lines) and checks it as a cosignature by pub over the note's
// body; it returns the cosignature's time.
func VerifyCosignature(note, name string, pub ed25519.PublicKey) (time.Time, error) {
	body, sigs, ok := strings.Cut(note, "\n\n")
	if !ok {
		return time.Time{}, errors.New("cosignature: not a signed note")
	}
	body += "\n"
	id := CosignerKeyID(name, pub)
	for _, line := range strings.Split(sigs, "\n") {
		b64, ok := strings.CutPrefix(line, "— "+name+" ")
		if !ok {
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(sig) != 4+8+ed25519.SignatureSize || [4]byte(sig[:4]) != id {
			continue
		}
		ts := binary.BigEndian.Uint64(sig[4:12])
		if ts > 1<<63-1 {
			continue
		}
		if ed25519.Verify(pub, cosignedMessage(body, ts), sig[12:]) {
			return time.Unix(int64(ts), 0).UTC(), nil
		}
		return time.Time{}, errors.New("cosignature: signature invalid")
	}
	return time.Time{}, errors.New("cosignature: none by " + name)
}
