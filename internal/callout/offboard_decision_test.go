package callout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/offboard"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// TestDecisionRefusesOffboarded: a token is refused as offboarded when its sub (or, without
// sub, its client id), its mapping or its role is revoked from after its iat, or when it has no
// iat; a token issued at or after the cutoff, and everyone else, is admitted; before the bucket
// is read every token is refused. The iat is the identity's, which for an opaque token is the
// introspection answer's (oidc checks both claim sets with one function).
func TestDecisionRefusesOffboarded(t *testing.T) {
	c := newCoreEnv(t, false)
	iat := time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)
	cutoff := iat.Add(time.Second).Unix()
	noIat := identity("dave", "readers")
	noIat.IssuedAt = time.Time{}
	fresh := identity("alice", "readers")
	fresh.IssuedAt = time.Unix(cutoff, 0)
	service := &oidc.Identity{ClientID: "svc-1", IssuedAt: iat, Expiry: iat.Add(time.Hour), Scopes: []string{"openid"}}
	v := fakeVerifier{
		"tok-alice": identity("alice", "readers"), "tok-alice-fresh": fresh, "tok-bob": identity("bob", "readers"),
		"tok-carol": identity("carol", "writers"), "tok-dave": noIat, "tok-svc": service,
		"tok-erin": identity("erin", "billing-readers"),
	}
	svc := c.orders.mapping("orders-services", "writer", 5)
	svc.Groups, svc.ClientIDs = nil, []string{"svc-1"}
	e := c.engine(t, v, c.orders.mapping("orders-readers", "reader", 0, "readers"),
		c.orders.mapping("orders-writers", "writer", 10, "writers"), svc,
		c.billing.mapping("billing-readers", "reader", 0, "billing-readers"))
	e.offboard = newOffboardState(&calloutconfig.Offboarding{Bucket: "b", Replicas: 1})

	decide := func(token string) *decision {
		t.Helper()
		data, hdr, _ := c.request(t, func(r *jwt.AuthorizationRequestClaims) { r.ConnectOptions.Token = token })
		_, d := e.handle(context.Background(), data, hdr)
		return d
	}
	if d := decide("tok-bob"); d.Allowed || d.Reason != ReasonOffboardingNotLoaded {
		t.Fatalf("before the bucket is read: %+v", d.Reason)
	}
	e.offboard.publish(offboard.NewSet([]offboard.Entry{
		{Kind: offboard.KindSubject, Value: "alice", Cutoff: cutoff},
		{Kind: offboard.KindSubject, Value: "dave", Cutoff: cutoff},
		{Kind: offboard.KindClient, Value: "svc-1", Cutoff: cutoff},
		{Kind: offboard.KindMapping, Value: "orders-writers", Cutoff: cutoff},
		// reader of BILLING: the ORDERS readers share the role name, not the role.
		{Kind: offboard.KindRole, Value: "reader", Account: c.billing.pub, Cutoff: cutoff},
	}))
	for token, refused := range map[string]bool{
		"tok-alice": true, "tok-alice-fresh": false, "tok-bob": false, "tok-carol": true, "tok-dave": true,
		"tok-svc": true, "tok-erin": true,
	} {
		d := decide(token)
		if refused != (d.Reason == ReasonOffboarded) || refused == d.Allowed {
			t.Errorf("%s: allowed %v, reason %s (%s); want refused=%v", token, d.Allowed, d.Reason, d.Detail, refused)
		}
		if refused && !strings.Contains(d.Detail, "offboarded from") {
			t.Errorf("%s: detail %q does not name the cutoff", token, d.Detail)
		}
	}
}
