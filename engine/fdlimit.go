package engine

// maxConns is the live cap on client connections: max_connections, or
// Config.FDConnCap when that is lower. gnet v2.9.7 stops its event loops
// when accept(2) fails with EMFILE or ENFILE (the accept callback returns
// ErrAcceptSocket, which ends Polling and shuts the engine down), so the
// gateway must never run out of file descriptors with a connection
// waiting: connections above this cap are accepted, answered 503 SlowDown
// and closed, which needs the one descriptor the cap leaves free.
func (s *Server) maxConns() int64 {
	n := s.tun().MaxConns
	if c := s.cfg.FDConnCap; c > 0 && c < n {
		n = c
	}
	return int64(n)
}
