package calloutconfig

import (
	"strings"
	"testing"
	"time"
)

func TestCheckMappingTag(t *testing.T) {
	for _, ok := range []string{"team:blue", "env:prod-1", "a_b:c_d"} {
		if err := CheckMappingTag(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for tag, want := range map[string]string{
		"team":            "not a tag",
		"team:":           "not a tag",
		"team:a.b":        "widen",
		"team:*":          "widen",
		"Team:blue":       "lower-case",
		"ping-sub:shared": `"ping-sub"`,
		"role:admin":      `"role"`,
		"mapping:x":       `"mapping"`,
		"ping-client:svc": `"ping-client"`,
	} {
		err := CheckMappingTag(tag)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckMappingTag(%q) = %v, want an error mentioning %s", tag, err, want)
		}
	}
}

// TestReservedTagKeysAreTheCalloutsKeys pins the list the provider documents and refuses to
// the constants the callout uses when it tags users.
func TestReservedTagKeysAreTheCalloutsKeys(t *testing.T) {
	got := strings.Join(ReservedTagKeys(), ",")
	if got != TagPingSub+","+TagPingClient+","+TagRole+","+TagMapping {
		t.Fatalf("reserved keys %s", got)
	}
	keys := ReservedTagKeys()
	keys[0] = "changed"
	if ReservedTagKeys()[0] != TagPingSub {
		t.Fatal("ReservedTagKeys exposes its backing array")
	}
}

func TestCheckAlgorithm(t *testing.T) {
	for _, alg := range SupportedAlgorithms() {
		if err := CheckAlgorithm(alg); err != nil {
			t.Errorf("%s refused: %v", alg, err)
		}
	}
	for alg, want := range map[string]string{"none": "unsigned", "NONE": "unsigned", "HS256": "shared secret",
		"hs512": "shared secret", "rs256": "not a supported", "ES256K": "not a supported"} {
		if err := CheckAlgorithm(alg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAlgorithm(%q) = %v, want %q", alg, err, want)
		}
	}
}

func TestBounds(t *testing.T) {
	b := SessionBounds
	for _, d := range []time.Duration{b.Min, time.Hour, b.Max} {
		if err := b.Check("max_session", d); err != nil {
			t.Errorf("%s refused: %v", d, err)
		}
	}
	if err := b.Check("max_session", b.Max+time.Second); err == nil || !strings.Contains(err.Error(), b.Why) {
		t.Errorf("over the ceiling: %v", err)
	}
	if err := b.Check("max_session", b.Min-time.Second); err == nil || !strings.Contains(err.Error(), "shorter than the minimum of 1m") {
		t.Errorf("under the floor: %v", err)
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{24 * time.Hour: "24h", time.Minute: "1m", 30 * time.Second: "30s",
		90 * time.Minute: "1h30m", 0: "0s", 10 * time.Millisecond: "10ms", time.Hour + time.Second: "1h0m1s"} {
		if got := ShortDuration(d); got != want {
			t.Errorf("ShortDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestCheckClaimPathAndScope(t *testing.T) {
	for _, p := range []string{"groups", "realm_access.roles", "https://example.com/claims.groups"} {
		if err := CheckClaimPath(p); err != nil {
			t.Errorf("%q refused: %v", p, err)
		}
	}
	for _, p := range []string{"", ".groups", "groups.", "a..b", "a b"} {
		if CheckClaimPath(p) == nil {
			t.Errorf("%q accepted", p)
		}
	}
	for _, s := range []string{"openid", "p1:read:user", "https://api.example.com/nats"} {
		if err := CheckScope(s); err != nil {
			t.Errorf("%q refused: %v", s, err)
		}
	}
	for _, s := range []string{"", "a b", `a"b`, `a\b`, "é"} {
		if CheckScope(s) == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckClaimCondition(t *testing.T) {
	if err := CheckClaimCondition(ClaimCondition{Path: "acr", Values: []string{"urn:mfa"}}, "groups"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c    ClaimCondition
		want string
	}{
		{ClaimCondition{Path: "acr"}, "at least one value"},
		{ClaimCondition{Path: "acr", Values: []string{""}}, "a value is empty"},
		{ClaimCondition{Path: "a..b", Values: []string{"x"}}, "not a claim name"},
		{ClaimCondition{Path: "exp", Values: []string{"1"}}, "token policy"},
		{ClaimCondition{Path: "iss", Values: []string{"x"}}, "token policy"},
		{ClaimCondition{Path: "client_id", Values: []string{"x"}}, "use client_ids"},
		{ClaimCondition{Path: "scp", Values: []string{"x"}}, "use scopes"},
		{ClaimCondition{Path: "groups", Values: []string{"x"}}, "use groups"},
	} {
		if err := CheckClaimCondition(tc.c, "groups"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
		}
	}
}

func TestCheckClientID(t *testing.T) {
	for _, ok := range []string{"0f6c1c7e-8f6a-4b7e-9d3c-2a1b0c9d8e7f", "orders-service", "a:b@c"} {
		if err := CheckClientID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a\tb", "x\x7f"} {
		if CheckClientID(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExpirySpreadWindow(t *testing.T) {
	for _, tc := range []struct {
		percent   float64
		remaining time.Duration
		want      time.Duration
	}{
		{5, time.Hour, 3 * time.Minute},             // 5% of the session
		{5, 8 * time.Hour, ExpirySpreadMaxWindow},   // 24m, bounded to 5m
		{50, 24 * time.Hour, ExpirySpreadMaxWindow}, // the bound holds at the largest spread
		{5, 30 * time.Second, time.Second},          // 1.5s in whole seconds
		{50, 16 * time.Second, 6 * time.Second},     // 8s would leave less than the floor
		{50, ExpirySpreadFloor, 0},                  // nothing to spare above the floor
		{50, 3 * time.Second, 0},                    // already under the floor: not shortened
		{5, 10 * time.Second, 0},                    // 0.5s rounds down to none
		{0, time.Hour, 0},                           // off
		{MaxExpirySpreadPercent, 40 * time.Second, 20 * time.Second},
	} {
		if got := ExpirySpreadWindow(tc.percent, tc.remaining); got != tc.want {
			t.Errorf("ExpirySpreadWindow(%v, %s) = %s, want %s", tc.percent, tc.remaining, got, tc.want)
		}
		// Whatever the inputs, the spread session keeps the floor or is not spread at all.
		if w := ExpirySpreadWindow(tc.percent, tc.remaining); w > 0 && tc.remaining-w < ExpirySpreadFloor {
			t.Errorf("window %s leaves %s of %s", w, tc.remaining-w, tc.remaining)
		}
	}
}

// TestExpirySpreadAbsentIsDefault: a document written before the field existed spreads by
// the default, and an explicit 0 (which must survive a round trip) turns spreading off.
func TestExpirySpreadAbsentIsDefault(t *testing.T) {
	d := validDocument(t)
	if got := d.ExpirySpread(); got != DefaultExpirySpreadPercent {
		t.Fatalf("absent: %v", got)
	}
	data := mustMarshal(t, d)
	if strings.Contains(string(data), "expiry_spread_percent") {
		t.Fatalf("absent field rendered:\n%s", data)
	}
	d.ExpirySpreadPercent = new(0.0)
	back, err := Parse(mustMarshal(t, d))
	if err != nil {
		t.Fatal(err)
	}
	if back.ExpirySpreadPercent == nil || back.ExpirySpread() != 0 {
		t.Fatalf("explicit 0 read back as %v", back.ExpirySpreadPercent)
	}
	if err := CheckExpirySpreadPercent(MaxExpirySpreadPercent); err != nil {
		t.Fatal(err)
	}
}
