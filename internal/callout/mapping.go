package callout

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/natsjwt"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// mapping is a calloutconfig.Mapping with its signing key parsed and its tags made safe.
type mapping struct {
	name        string
	priority    int
	account     string
	accountName string
	role        string
	signer      *signingKey
	maxSession  time.Duration
	connTypes   map[string]bool // nil: any connection type
	tags        []string        // fixed tags: role, mapping and the mapping's own
	when        conditions
}

// mappingSet answers "which mapping applies to this token" in time proportional to the
// number of groups in the token (plus the few mappings that name neither groups nor client
// ids), not the number of mappings.
type mappingSet struct {
	// ordered by priority (highest first), then name, so the lowest index wins.
	all []*mapping
	// byGroup and byClient index group names and ids, and client ids, to positions in all.
	byGroup, byClient map[string][]int
	// unindexed are the positions of mappings with neither groups nor client ids (scopes or
	// claims only): every token is checked against them.
	unindexed []int
	// accounts are the names and keys a connect `user` may use to pick an account.
	accounts map[string]bool
}

func compileMappings(in []calloutconfig.Mapping) (*mappingSet, error) {
	ms := &mappingSet{byGroup: map[string][]int{}, byClient: map[string][]int{}, accounts: map[string]bool{}}
	for i := range in {
		m := in[i]
		// Validate again even though documents are validated as a whole: the compiler is what
		// turns tags and keys into users, and must never depend on its caller having checked.
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("mappings[%d] (%s): %w", i, m.Name, err)
		}
		signer, err := newSigningKey(m.RoleSigningKeySeed, natsjwt.KindAccount)
		if err != nil {
			return nil, fmt.Errorf("mappings[%d] (%s): role_signing_key_seed: %w", i, m.Name, err)
		}
		cm := &mapping{
			name:        m.Name,
			priority:    m.Priority,
			account:     m.Account,
			accountName: m.AccountName,
			role:        m.Role,
			signer:      signer,
			maxSession:  m.MaxSession.Std(),
			when:        compileConditions(m),
		}
		if len(m.AllowedConnectionTypes) > 0 {
			cm.connTypes = map[string]bool{}
			for _, t := range m.AllowedConnectionTypes {
				cm.connTypes[strings.ToUpper(strings.TrimSpace(t))] = true
			}
		}
		cm.tags = []string{calloutconfig.TagRole + ":" + calloutconfig.NameTagValue(m.Role), calloutconfig.TagMapping + ":" + calloutconfig.NameTagValue(m.Name)}
		cm.tags = append(cm.tags, m.Tags...)
		ms.all = append(ms.all, cm)
	}
	slices.SortStableFunc(ms.all, func(a, b *mapping) int {
		if c := cmp.Compare(b.priority, a.priority); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	byName := map[string]int{}
	for i, m := range ms.all {
		byName[m.name] = i
		ms.accounts[m.account] = true
		if m.accountName != "" {
			ms.accounts[strings.ToLower(m.accountName)] = true
		}
	}
	for _, m := range in {
		idx := byName[m.Name]
		for _, g := range m.Groups {
			for _, key := range []string{g.Name, g.ID} {
				if key != "" && !slices.Contains(ms.byGroup[key], idx) {
					ms.byGroup[key] = append(ms.byGroup[key], idx)
				}
			}
		}
		for _, id := range m.ClientIDs {
			ms.byClient[id] = append(ms.byClient[id], idx)
		}
		if len(m.Groups) == 0 && len(m.ClientIDs) == 0 {
			ms.unindexed = append(ms.unindexed, idx)
		}
	}
	return ms, nil
}

// selection is the outcome of matching a token against the mappings.
type selection struct {
	m      *mapping
	reason Reason // set when m is nil
}

// choose picks the highest-priority mapping whose conditions the token meets, restricted to
// the account named by the connect `user` (if any) and to mappings that allow the client's
// connection type. Candidates come from the indexes; every candidate is then checked against
// all of its conditions, so an index is only a shortcut, never a grant.
func (ms *mappingSet) choose(id *oidc.Identity, requestedAccount string, ci *jwt.ClientInformation) selection {
	requested := strings.TrimSpace(requestedAccount)
	if requested != "" && !ms.accounts[requested] && !ms.accounts[strings.ToLower(requested)] {
		return selection{reason: ReasonUnknownAccount}
	}
	best := -1
	anyCandidate, anyMatch, anyAccount := false, false, false
	consider := func(idx int) {
		if best != -1 && idx >= best {
			return
		}
		anyCandidate = true
		m := ms.all[idx]
		if !m.when.holds(id) {
			return
		}
		anyMatch = true
		if requested != "" && requested != m.account && !strings.EqualFold(requested, m.accountName) {
			return
		}
		anyAccount = true
		if !m.allowsConnection(ci) {
			return
		}
		best = idx
	}
	for _, g := range id.Groups {
		for _, idx := range ms.byGroup[g] {
			consider(idx)
		}
	}
	if id.ClientID != "" {
		for _, idx := range ms.byClient[id.ClientID] {
			consider(idx)
		}
	}
	for _, idx := range ms.unindexed {
		consider(idx)
	}
	switch {
	case best != -1:
		return selection{m: ms.all[best]}
	case id.Subject == "" && !anyMatch:
		// A service token is admitted only by a mapping that names its client id.
		return selection{reason: ReasonServiceToken}
	case !anyCandidate:
		return selection{reason: ReasonNoMapping}
	case !anyMatch:
		return selection{reason: ReasonConditionsNotMet}
	case !anyAccount:
		return selection{reason: ReasonAccountNotMapped}
	default:
		return selection{reason: ReasonConnectionType}
	}
}

// allowsConnection enforces a mapping's allowed connection types. The callout must do it:
// users signed by a role (scoped) key may not carry allowed_connection_types themselves
// (the server refuses scoped users with any permission or limit set), and the server takes
// connection types from the user JWT before applying the role's template.
func (m *mapping) allowsConnection(ci *jwt.ClientInformation) bool {
	if m.connTypes == nil {
		return true
	}
	for _, t := range connectionTypes(ci) {
		if m.connTypes[t] {
			return true
		}
	}
	return false
}

// connectionTypes maps the request's client kind/type to the JWT connection type names.
// The request does not say whether MQTT or a leaf node came over a websocket, so both
// spellings are candidates for those.
func connectionTypes(ci *jwt.ClientInformation) []string {
	switch {
	case ci == nil:
		return nil
	case strings.EqualFold(ci.Kind, "Leafnode"):
		return []string{jwt.ConnectionTypeLeafnode, jwt.ConnectionTypeLeafnodeWS}
	case strings.EqualFold(ci.Type, "websocket"):
		return []string{jwt.ConnectionTypeWebsocket}
	case strings.EqualFold(ci.Type, "mqtt"):
		return []string{jwt.ConnectionTypeMqtt, jwt.ConnectionTypeMqttWS}
	case strings.EqualFold(ci.Type, "nats"), ci.Type == "" && strings.EqualFold(ci.Kind, "Client"):
		return []string{jwt.ConnectionTypeStandard}
	}
	return nil
}

// subjectToken makes a name safe for role templates that use {{name()}}: nats-server pastes
// the user JWT's name into the subject as it is, and a name claim such as preferred_username
// may be any string (OIDC Core §5.1), so "." would add subject tokens and "*" or ">" would
// become wildcards over other people's subjects. Those bytes and the escape byte itself are
// percent-encoded, which keeps the mapping one-to-one and ordinary names unchanged.
func subjectToken(s string) string {
	if !strings.ContainsAny(s, ".*>%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.', '*', '>', '%':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
