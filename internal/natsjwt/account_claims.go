package natsjwt

import "github.com/nats-io/jwt/v2"

// PlannedClaims are the claims SignAccount would sign for the spec, before activation tokens
// are issued and without an issuer: what a plan compares with the JWT live servers hold
// (internal/liveimpact). The spec is not validated here; the plan validates it separately.
func (s AccountSpec) PlannedClaims(accountPublicKey string) *jwt.AccountClaims {
	return s.claims(accountPublicKey)
}
