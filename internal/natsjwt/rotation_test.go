package natsjwt

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestDecideRotation_schedule(t *testing.T) {
	p := RotationPolicy{Period: 30 * 24 * time.Hour, Grace: 24 * time.Hour}
	cases := []struct {
		name    string
		p       RotationPolicy
		k       KeySchedule
		keepers bool
		now     time.Time
		want    RotationStep
		why     string
	}{
		{"fresh key", p, KeySchedule{CreatedAt: t0}, false, t0.Add(time.Hour), RotationStep{}, ""},
		{"period ends", p, KeySchedule{CreatedAt: t0}, false, t0.Add(p.Period), RotationStep{Rotate: true, KeepPrevious: true}, "rotation period of 720h0m0s ended at 2030-01-31T00:00:00Z"},
		{"keepers", p, KeySchedule{CreatedAt: t0}, true, t0, RotationStep{Rotate: true, KeepPrevious: true}, "keepers changed"},
		{"in grace", p, KeySchedule{CreatedAt: t0, HasPrevious: true}, false, t0.Add(23 * time.Hour), RotationStep{}, ""},
		{"grace over", p, KeySchedule{CreatedAt: t0, HasPrevious: true}, false, t0.Add(24 * time.Hour), RotationStep{DropPrevious: true}, "grace period of 24h0m0s ended"},
		{"rotation drops a previous key", p, KeySchedule{CreatedAt: t0, HasPrevious: true}, true, t0.Add(time.Hour), RotationStep{Rotate: true, KeepPrevious: true, DropPrevious: true}, "keepers"},
		{"emergency rotation", RotationPolicy{Period: p.Period, Grace: p.Grace, Emergency: true}, KeySchedule{CreatedAt: t0}, true, t0, RotationStep{Rotate: true}, "emergency"},
		{"emergency in grace", RotationPolicy{Grace: p.Grace, Emergency: true}, KeySchedule{CreatedAt: t0, HasPrevious: true}, false, t0.Add(time.Minute), RotationStep{DropPrevious: true}, "emergency is set"},
		{"no grace", RotationPolicy{}, KeySchedule{CreatedAt: t0}, true, t0, RotationStep{Rotate: true}, "keepers"},
		{"keepers only never due", RotationPolicy{Grace: time.Hour}, KeySchedule{CreatedAt: t0}, false, t0.Add(10 * 365 * 24 * time.Hour), RotationStep{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DecideRotation(tc.p, tc.k, tc.keepers, tc.now)
			why := got.Why
			got.Why = ""
			if got != tc.want {
				t.Fatalf("step = %+v, want %+v", got, tc.want)
			}
			if !strings.Contains(why, tc.why) || (tc.why == "" && why != "") {
				t.Fatalf("why = %q, want it to say %q", why, tc.why)
			}
			if got.Changes() != (tc.want.Rotate || tc.want.DropPrevious) {
				t.Fatal("Changes disagrees with the step")
			}
		})
	}
}

func TestRotationDueAndDropTimes(t *testing.T) {
	p := RotationPolicy{Period: 2 * time.Hour, Grace: time.Hour}
	if due, at := RotationDue(p, t0, t0.Add(time.Hour)); due || !at.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("due=%v at=%v", due, at)
	}
	if due, _ := RotationDue(RotationPolicy{}, t0, t0.Add(1000*time.Hour)); due {
		t.Fatal("a policy without a period is never due by time")
	}
	if at := PreviousKeyDropAt(p, t0); !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("drop at %v", at)
	}
}

func TestRotationPolicyValidate(t *testing.T) {
	for _, tc := range []struct {
		p    RotationPolicy
		want string
	}{
		{RotationPolicy{Period: 720 * time.Hour, Grace: 24 * time.Hour}, ""},
		{RotationPolicy{Grace: 0}, ""},
		{RotationPolicy{Period: 30 * time.Minute}, "shorter than the minimum of 1h0m0s"},
		{RotationPolicy{Period: 2 * time.Hour, Grace: 3 * time.Hour}, "longer than the rotation period"},
		{RotationPolicy{Grace: 31 * 24 * time.Hour}, "longer than the maximum"},
		{RotationPolicy{Grace: -time.Second}, "negative"},
	} {
		err := tc.p.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: err = %v, want %q", tc.p, err, tc.want)
		}
	}
}

func TestCheckSessionCoversRotation(t *testing.T) {
	r := SignerRotation{Period: 2 * time.Hour, Grace: time.Hour}.WithRole("reader")
	if err := CheckSessionCoversRotation(time.Hour, r); err != nil {
		t.Fatal(err)
	}
	err := CheckSessionCoversRotation(3*time.Hour, r)
	if !errors.Is(err, ErrSessionOutlivesGrace) || !strings.Contains(err.Error(), "rotation period 2h0m0s of role \"reader\"") {
		t.Fatalf("err = %v", err)
	}
	err = CheckSessionCoversRotation(90*time.Minute, r)
	if !errors.Is(err, ErrSessionOutlivesGrace) || !strings.Contains(err.Error(), "grace period 1h0m0s") {
		t.Fatalf("err = %v", err)
	}
}

func TestSignerRotationRoundTrip(t *testing.T) {
	acc, _, _ := NewKey(KindAccount)
	_, seed, _ := NewKey(KindAccount)
	s, err := NewSigner(acc, "reader", seed, KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	plain := EncodeSigner(s)
	if strings.Contains(plain, "rotation") {
		t.Fatal("a signer without rotation must keep the v1 form")
	}
	s.Rotation = &SignerRotation{Period: 720 * time.Hour, Grace: 24 * time.Hour}
	enc := EncodeSigner(s)
	back, err := ParseSigner(enc, KindAccount)
	if err != nil {
		t.Fatal(err)
	}
	if back.Rotation == nil || back.Rotation.Period != 720*time.Hour || back.Rotation.Grace != 24*time.Hour || back.Role != "reader" || back.PublicKey != s.PublicKey {
		t.Fatalf("round trip: %+v", back)
	}
	for _, bad := range []string{enc[:strings.LastIndex(enc, ":")] + ":rotation=1h", enc[:strings.LastIndex(enc, ":")] + ":other=1h/1h", enc + ":x"} {
		if _, err := ParseSigner(bad, KindAccount); err == nil || strings.Contains(err.Error(), seed) {
			t.Errorf("%q: err = %v, want a malformed error without the seed", bad[len(bad)-20:], err)
		}
	}
}

func TestOverlapKeysCarryTheRoleTemplate(t *testing.T) {
	op, opSeed, _ := NewKey(KindOperator)
	opSigner, _ := NewSigner(op, "", opSeed, KindOperator)
	acc, _, _ := NewKey(KindAccount)
	cur, _, _ := NewKey(KindAccount)
	next, _, _ := NewKey(KindAccount)
	prev, _, _ := NewKey(KindAccount)
	spec := AccountSpec{Name: "ORDERS", Roles: []RoleSpec{{
		Name: "reader", PublicKey: cur, OverlapKeys: []string{next, prev},
		Permissions: Permissions{SubAllow: []string{"orders.>"}},
	}}}
	if err := spec.Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	token, err := SignAccount(spec, acc, opSigner)
	if err != nil {
		t.Fatal(err)
	}
	c, err := jwt.DecodeAccountClaims(token)
	if err != nil {
		t.Fatal(err)
	}
	var templates []string
	for _, k := range []string{cur, next, prev} {
		scope, ok := c.SigningKeys.GetScope(k)
		us, isUser := scope.(*jwt.UserScope)
		if !ok || !isUser || us.Role != "reader" {
			t.Fatalf("key %s: scope %+v", k, scope)
		}
		templates = append(templates, strings.Join(us.Template.Sub.Allow, ","))
	}
	if templates[0] != "orders.>" || templates[1] != templates[0] || templates[2] != templates[0] {
		t.Fatalf("templates = %v, want the role's template for every key", templates)
	}
	spec.Roles = append(spec.Roles, RoleSpec{Name: "writer", PublicKey: next})
	if err := spec.Validate(ValidateOptions{}); err == nil || !strings.Contains(err.Error(), "rotation key") && !strings.Contains(err.Error(), "same key") {
		t.Fatalf("a rotation key shared with another role must be refused, got %v", err)
	}
}
