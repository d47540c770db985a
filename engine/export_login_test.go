package engine

// ForgetDummyHash and DummyHashMade let the external login test see whether
// Authenticate spent the unknown-user work: the dummy hash is made on the
// first such sign-in, so after forgetting it its reappearance is the proof.
func (s *Service) ForgetDummyHash() {
	s.dummyHash = dummyHash{}
}

func (s *Service) DummyHashMade() bool { return s.dummyHash.hash != "" }
