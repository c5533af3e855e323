// Package auth hashes passwords for chat.Service with bcrypt.
package auth

import (
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Bcrypt implements chat.Passwords with a configurable bcrypt cost.
type Bcrypt struct{ cost int }

// DefaultCost is the bcrypt cost of a production server (about 50 ms per
// hash on one core of a 2025 laptop).
const DefaultCost = 10

// NewBcrypt returns a hasher with the given cost (bcrypt.MinCost..MaxCost).
func NewBcrypt(cost int) (*Bcrypt, error) {
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	return &Bcrypt{cost: cost}, nil
}

// Hash returns the bcrypt hash of password.
func (b *Bcrypt) Hash(password string) ([]byte, error) {
	return bcrypt.GenerateFromPassword([]byte(password), b.cost)
}

// Verify reports whether password matches hash.
func (b *Bcrypt) Verify(hash []byte, password string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
}
