package engine

import (
	"context"
	"time"
)

// IdempotencyClaim is an API request's Idempotency-Key on its way to the
// transaction that acts on it. The key, the action and the answer it gets
// are written in that one transaction: a crash before the commit leaves no
// trace of the key (a retry runs the action, once), a crash after it leaves
// the answer (a retry replays it). A claim held in its own transaction
// before the action could, after a crash, say "still running" forever.
//
// The web layer puts the claim into the request's context
// (WithIdempotencyClaim); the store records it with the first command that
// carries an Answer (Change.Answer) and sets Recorded once that committed.
type IdempotencyClaim struct {
	Key         string
	UserID      int64
	RequestHash string // as in IdempotentResult
	CreatedAt   time.Time
	// Status is the HTTP status the handler answers with on success, set
	// by the handler before it acts.
	Status int
	// Encode renders the command's Answer as the response body, exactly as
	// it is sent, so that a replay is byte for byte the first answer.
	Encode func(answer any) ([]byte, error)
	// Recorded is the stored result once the action committed with it; nil
	// while the action has not run or did not commit.
	Recorded *IdempotentResult
}

type claimKey struct{}

// WithIdempotencyClaim returns ctx carrying c to the store.
func WithIdempotencyClaim(ctx context.Context, c *IdempotencyClaim) context.Context {
	return context.WithValue(ctx, claimKey{}, c)
}

// IdempotencyClaimFrom returns the claim ctx carries, or nil. A claim
// already recorded is not returned: one request acts once, and a second
// command in the same request must not replay the first one's answer. Nor is
// a claim whose handler has not said its Status: its answer is stored after
// the fact instead.
func IdempotencyClaimFrom(ctx context.Context) *IdempotencyClaim {
	c, _ := ctx.Value(claimKey{}).(*IdempotencyClaim)
	if c == nil || c.Recorded != nil || c.Status == 0 {
		return nil
	}
	return c
}

// IdempotentReplay is what a command returns instead of acting when its
// Idempotency-Key already holds a result: the request was made before and
// its answer is Result. It is not an *Error: it is not a failure, and the
// web layer answers it by replaying Result.
type IdempotentReplay struct {
	Result IdempotentResult
}

func (r *IdempotentReplay) Error() string {
	return "idempotency key " + r.Result.Key + " already answered"
}

// RecordedIdempotent returns the answer stored with the action of the
// request ctx belongs to, or nil when none was.
func RecordedIdempotent(ctx context.Context) *IdempotentResult {
	c, _ := ctx.Value(claimKey{}).(*IdempotencyClaim)
	if c == nil {
		return nil
	}
	return c.Recorded
}

// AnswerWith tells the claim ctx carries, if any, the HTTP status its
// handler answers with on success; the handler calls it before acting.
func AnswerWith(ctx context.Context, status int) {
	if c, _ := ctx.Value(claimKey{}).(*IdempotencyClaim); c != nil {
		c.Status = status
	}
}
