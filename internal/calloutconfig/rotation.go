package calloutconfig

import (
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nkeys"

	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
)

// KeyRotation is what a mapping's rule says about the rotation of its role's key: the callout
// hands out sessions of up to max_session, and the account keeps a retired key listed for
// Grace, so the rule is refused (by the provider while planning and by the service at start)
// when a session could outlive its key.
type KeyRotation struct {
	Period Duration `json:"period"`
	Grace  Duration `json:"grace_period"`
}

func (m Mapping) validateRotation() error {
	r := m.RoleKeyRotation
	if r == nil {
		return nil
	}
	p := natsjwt.RotationPolicy{Period: r.Period.Std(), Grace: r.Grace.Std()}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("role_key_rotation: %w", err)
	}
	sr := natsjwt.SignerRotation{Period: p.Period, Grace: p.Grace}.WithRole(m.Role)
	return natsjwt.CheckSessionCoversRotation(m.MaxSession.Std(), sr)
}

// validateXKeySeeds checks the extra xkeys a rotating callout holds beside xkey_seed: the
// successor prepared ahead and the previous key during its grace. Requests sealed to any of
// them are opened, so the account JWT's xkey can switch whichever is deployed first.
func (n NATS) validateXKeySeeds() error {
	if len(n.XKeySeeds) == 0 {
		return nil
	}
	var errs []error
	if n.XKeySeed == "" {
		errs = append(errs, errors.New("nats.xkey_seeds needs nats.xkey_seed: the extra keys only complement the current one"))
	}
	pubs := []string{publicCurveKey(n.XKeySeed)}
	for i, seed := range n.XKeySeeds {
		pub := publicCurveKey(seed)
		switch {
		case pub == "":
			errs = append(errs, fmt.Errorf("nats.xkey_seeds[%d] is not a valid curve seed (SX…)", i))
		case slices.Contains(pubs, pub):
			errs = append(errs, fmt.Errorf("nats.xkey_seeds[%d] repeats the key %s; list every xkey once", i, pub))
		}
		pubs = append(pubs, pub)
	}
	if len(n.XKeySeeds) > MaxExtraXKeys {
		errs = append(errs, fmt.Errorf("nats.xkey_seeds holds %d keys; at most %d (the next and the previous key) are needed", len(n.XKeySeeds), MaxExtraXKeys))
	}
	return errors.Join(errs...)
}

// MaxExtraXKeys is the successor plus the previous key: every request costs one open per key
// tried, so the list stays short.
const MaxExtraXKeys = 2

func publicCurveKey(seed string) string {
	kp, err := nkeys.FromCurveSeed([]byte(seed))
	if err != nil {
		return ""
	}
	defer kp.Wipe()
	pub, _ := kp.PublicKey()
	return pub
}
