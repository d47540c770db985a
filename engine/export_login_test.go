package engine

import "sync"

// ForgetDummyHash and DummyHashMade let the external login test see whether
// Authenticate spent the unknown-user work: the dummy hash is made on the
// first such sign-in, so after forgetting it its reappearance is the proof.
func ForgetDummyHash() {
	dummyHash.once = sync.Once{}
	dummyHash.hash = ""
}

func DummyHashMade() bool { return dummyHash.hash != "" }
