package engine

// maxConns is the live cap on client connections: max_connections. The
// file descriptors they may use are capped by the descriptor account
// (fdaccount.go): gnet v2.9.7 stops its event loops when accept(2) fails
// with EMFILE or ENFILE (the accept callback returns ErrAcceptSocket,
// which ends Polling and shuts the engine down), so the gateway must never
// run out of file descriptors with a connection waiting: connections above
// either cap are accepted, answered 503 SlowDown and closed, which needs
// one of the descriptors the account's reserve leaves free.
func (s *Server) maxConns() int64 {
	return int64(s.tun().MaxConns)
}
