package calloutconfig

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

func TestValidate_roleKeyRotation(t *testing.T) {
	d := validDocument(t)
	d.Mappings[0].RoleKeyRotation = &KeyRotation{Period: Duration(720 * time.Hour), Grace: Duration(time.Hour)}
	if err := d.Validate(); err != nil {
		t.Fatalf("max_session equal to the grace is fine: %v", err)
	}
	for _, tc := range []struct {
		session time.Duration
		r       KeyRotation
		want    string
	}{
		{2 * time.Hour, KeyRotation{Period: Duration(720 * time.Hour), Grace: Duration(time.Hour)}, "grace period 1h0m0s of role \"reader\""},
		{3 * time.Hour, KeyRotation{Period: Duration(2 * time.Hour), Grace: Duration(time.Hour)}, "longer than the rotation period 2h0m0s"},
		{time.Hour, KeyRotation{Period: Duration(time.Hour), Grace: Duration(2 * time.Hour)}, "role_key_rotation: grace period 2h0m0s is longer than the rotation period"},
	} {
		d := validDocument(t)
		d.Mappings[0].MaxSession = Duration(tc.session)
		d.Mappings[0].RoleKeyRotation = &tc.r
		err := d.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mappings[0] (orders-readers)") {
			t.Errorf("session %s, %+v: err = %v, want %q", tc.session, tc.r, err, tc.want)
		}
	}
}

func TestValidate_xkeySeeds(t *testing.T) {
	d := validDocument(t)
	_, next := newKey(t, nkeys.CreateCurveKeys)
	_, prev := newKey(t, nkeys.CreateCurveKeys)
	d.NATS.XKeySeeds = []string{next, prev}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	_, acc := newKey(t, nkeys.CreateAccount)
	_, third := newKey(t, nkeys.CreateCurveKeys)
	for name, tc := range map[string]struct {
		current string
		extra   []string
		want    string
	}{
		"not a curve seed": {d.NATS.XKeySeed, []string{acc}, "nats.xkey_seeds[0] is not a valid curve seed"},
		"repeats current":  {d.NATS.XKeySeed, []string{d.NATS.XKeySeed}, "nats.xkey_seeds[0] repeats the key"},
		"no current":       {"", []string{next}, "needs nats.xkey_seed"},
		"too many":         {d.NATS.XKeySeed, []string{next, prev, third}, "at most 2"},
	} {
		d := validDocument(t)
		d.NATS.XKeySeed, d.NATS.XKeySeeds = tc.current, tc.extra
		err := d.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), acc) {
			t.Errorf("%s: the error echoes a seed", name)
		}
	}
}

// The default grace of a rotating key covers the longest session a mapping may hand out, so
// a role that only declares a period never fails a mapping's check.
func TestDefaultRotationGraceCoversLongestSession(t *testing.T) {
	if SessionBounds.Max > natsjwt.DefaultRotationGrace {
		t.Fatalf("natsjwt.DefaultRotationGrace %s is shorter than the longest max_session %s", natsjwt.DefaultRotationGrace, SessionBounds.Max)
	}
}
