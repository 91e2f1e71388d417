package callout

import (
	"encoding/json"
	"slices"

	"github.com/natsping/terraform-provider-natsping/internal/calloutconfig"
	"github.com/natsping/terraform-provider-natsping/internal/oidc"
)

// conditions are what a token must meet for a mapping to apply. Every condition given must
// hold; one left out does not restrict. calloutconfig.Mapping.Validate guarantees at least one.
type conditions struct {
	groups  map[string]bool // group names and ids; nil: no group condition
	clients map[string]bool // OAuth client ids; nil: no client condition
	scopes  []string        // all must be granted
	claims  []claimCondition
}

type claimCondition struct {
	path   string
	values map[string]bool
}

func compileConditions(m calloutconfig.Mapping) conditions {
	var c conditions
	if len(m.Groups) > 0 {
		c.groups = map[string]bool{}
		for _, g := range m.Groups {
			for _, key := range []string{g.Name, g.ID} {
				if key != "" {
					c.groups[key] = true
				}
			}
		}
	}
	if len(m.ClientIDs) > 0 {
		c.clients = map[string]bool{}
		for _, id := range m.ClientIDs {
			c.clients[id] = true
		}
	}
	c.scopes = slices.Clone(m.Scopes)
	for _, cc := range m.Claims {
		values := make(map[string]bool, len(cc.Values))
		for _, v := range cc.Values {
			values[v] = true
		}
		c.claims = append(c.claims, claimCondition{path: cc.Path, values: values})
	}
	return c
}

// holds reports whether the identity meets every condition. A token without sub (client
// credentials) must be named by its client id: groups, scopes or claims alone never admit a
// service, because nothing in such a token says which person or team vouches for it.
func (c *conditions) holds(id *oidc.Identity) bool {
	if id.Subject == "" && c.clients == nil {
		return false
	}
	if c.groups != nil && !slices.ContainsFunc(id.Groups, func(g string) bool { return c.groups[g] }) {
		return false
	}
	if c.clients != nil && !c.clients[id.ClientID] {
		return false
	}
	for _, s := range c.scopes {
		if !slices.Contains(id.Scopes, s) {
			return false
		}
	}
	for _, cc := range c.claims {
		if !cc.holds(id.Claims) {
			return false
		}
	}
	return true
}

// holds applies one claim condition: a string claim equal to a value, a string in an array
// claim equal to a value (amr: ["pwd", "mfa"] meets amr = ["mfa"]), or any other JSON value
// whose compact encoding equals a value (3, true). Absent claims and claims the path cannot
// reach never hold, so a missing claim refuses rather than admits.
func (cc claimCondition) holds(claims map[string]any) bool {
	v, found, err := oidc.ClaimAt(claims, cc.path)
	if err != nil || !found {
		return false
	}
	switch v := v.(type) {
	case string:
		return cc.values[v]
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && cc.values[s] {
				return true
			}
		}
		return false
	case nil:
		return false
	default:
		b, err := json.Marshal(v)
		return err == nil && cc.values[string(b)]
	}
}
