package novaserver

// Synced says whether the informer cache has synced, as the readiness check does: a second
// replica started next to a running one (the tests' internal/testenv) waits for it.
func (s *Server) Synced() bool { return s.synced.Load() }
