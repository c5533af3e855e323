package msync

// SetEnded sets the hook called when an admitted connection has ended
// and given back its admission slot. Call it before the first
// connection.
func (s *Server) SetEnded(f func()) { s.ended = f }
