package chat

// QueuedSends and QueuedAcks are how many requests wait in the message and
// ack batchers' queues, so that a test can hold a batch open until all its
// requests are queued.
func (s *Service) QueuedSends() int { return len(s.msgs.queue) }
func (s *Service) QueuedAcks() int  { return len(s.acks.queue) }

// CheckRawJSON exposes checkRawJSON to the tests.
var CheckRawJSON = checkRawJSON
