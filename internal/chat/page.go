package chat

import "unicode/utf8"

// Pages stop at a byte budget (Config.MaxPageBytes) as well as at their
// item limit, so that one reply stays bounded whatever the items hold: a
// page takes items in order while the estimate of their encoded size stays
// within the budget, and always at least one, so that paging progresses.
// The caller then sets its cursor from the last item kept and says there
// is more, exactly as when the item limit cut the page, so no item is
// skipped or repeated.

// Fixed per-item allowances for what the estimates below do not count
// field by field: keys, punctuation, ids, numbers and flags of the wire
// object. Generous, so that the estimate is above the real size.
const (
	messageOverhead = 320
	readOverhead    = 96
	memberOverhead  = 48
	countOverhead   = 224
	convOverhead    = 96
)

// pageCut returns how many of items fit in budget bytes by size: at least
// one (when there are any).
func pageCut[T any](items []T, budget int, size func(*T) int) int {
	total := 0
	for i := range items {
		total += size(&items[i])
		if i > 0 && total > budget {
			return i
		}
	}
	return len(items)
}

// messageSize estimates the encoded size of a message object.
func messageSize(m *Message) int {
	return messageOverhead + jsonLen(m.LocalID) + jsonLen(m.FromName) + jsonLen(m.ToName) + jsonLen(m.Text) +
		jsonLen(m.CustomEvent) + rawLen(m.CustomExts) + rawLen(m.Ext)
}

func readSize(r *Read) int     { return readOverhead + jsonLen(r.Name) + jsonLen(r.Content) }
func memberSize(m *Member) int { return memberOverhead + jsonLen(m.Name) }
func countSize(c *ReceiptCount) int {
	return countOverhead + jsonLen(c.LastName) + jsonLen(c.LastContent)
}

func convSize(c *Conversation) int {
	n := convOverhead + jsonLen(c.PeerName)
	if c.Last != nil {
		n += messageSize(c.Last)
	}
	return n
}

// jsonLen is the length of s as a JSON string by encoding/json, quotes
// included: HTML characters and U+2028/U+2029 become \uXXXX, invalid bytes
// \ufffd.
func jsonLen(s string) int {
	n := 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
				n += 2
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				n += 6
			default:
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			n += 6
		} else {
			n += size
		}
		i += size
	}
	return n
}

// rawLen is the length of raw JSON as encoding/json writes it: compacted
// (never longer) with HTML characters and U+2028/U+2029 escaped.
func rawLen(raw []byte) int {
	n := 0
	for i, c := range raw {
		switch {
		case c == '<' || c == '>' || c == '&':
			n += 6
		case c == 0xe2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xa8 || raw[i+2] == 0xa9):
			n += 4 // U+2028, U+2029: 3 bytes become \u2028
		default:
			n++
		}
	}
	return n
}
