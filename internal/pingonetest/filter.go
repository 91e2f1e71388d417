package pingonetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// The group filter attributes and operators PingOne documents; anything else is INVALID_FILTER.
var (
	filterAttributes = []string{"name", "externalId", "displayName", "id", "population.id", "sourceId"}
	filterOperators  = []string{"eq", "sw"}
	// Id-like attributes only support eq in PingOne.
	eqOnlyAttributes = map[string]bool{"id": true, "population.id": true, "sourceId": true}
)

// groupPredicate is a compiled filter.
type groupPredicate func(*Group) bool

// parseGroupFilter compiles the SCIM subset PingOne accepts on groups:
//
//	expr   = term *("or" term)
//	term   = factor *("and" factor)
//	factor = "(" expr ")" / attr SP ("eq" / "sw") SP string
//
// Values are JSON strings, as in RFC 7644, so `\"` and `\\` escapes work. String comparison is
// case-insensitive (SCIM's default for attributes that are not caseExact).
func parseGroupFilter(filter string) (groupPredicate, error) {
	toks, err := tokenize(filter)
	if err != nil {
		return nil, err
	}
	p := &filterParser{toks: toks}
	pred, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q after a complete expression", p.toks[p.pos].text)
	}
	return pred, nil
}

type token struct {
	text   string
	quoted bool // a string literal; text is already unescaped
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ', '\t':
			i++
		case '(', ')':
			toks = append(toks, token{text: string(c)})
			i++
		case '"':
			end, err := closingQuote(s, i)
			if err != nil {
				return nil, err
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:end+1]), &v); err != nil {
				return nil, fmt.Errorf("bad string literal %s: %w", s[i:end+1], err)
			}
			toks = append(toks, token{text: v, quoted: true})
			i = end + 1
		default:
			start := i
			for i < len(s) && s[i] != ' ' && s[i] != '\t' && s[i] != '(' && s[i] != ')' && s[i] != '"' {
				i++
			}
			toks = append(toks, token{text: s[start:i]})
		}
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("the filter is empty")
	}
	return toks, nil
}

func closingQuote(s string, open int) (int, error) {
	for j := open + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j, nil
		}
	}
	return 0, fmt.Errorf("unterminated string starting at offset %d", open)
}

type filterParser struct {
	toks []token
	pos  int
}

func (p *filterParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *filterParser) expr() (groupPredicate, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.peekWord("or") {
		p.pos++
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(g *Group) bool { return l(g) || right(g) }
	}
	return left, nil
}

func (p *filterParser) term() (groupPredicate, error) {
	left, err := p.factor()
	if err != nil {
		return nil, err
	}
	for p.peekWord("and") {
		p.pos++
		right, err := p.factor()
		if err != nil {
			return nil, err
		}
		l := left
		left = func(g *Group) bool { return l(g) && right(g) }
	}
	return left, nil
}

func (p *filterParser) factor() (groupPredicate, error) {
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("the filter ends where a comparison was expected")
	}
	if p.peekWord("(") {
		p.pos++
		inner, err := p.expr()
		if err != nil {
			return nil, err
		}
		if !p.peekWord(")") {
			return nil, fmt.Errorf("missing closing parenthesis")
		}
		p.pos++
		return inner, nil
	}
	if p.pos+3 > len(p.toks) {
		return nil, fmt.Errorf("incomplete comparison; expected <attribute> <eq|sw> \"<value>\"")
	}
	attr, op, val := p.toks[p.pos], p.toks[p.pos+1], p.toks[p.pos+2]
	p.pos += 3
	if attr.quoted || !slices.Contains(filterAttributes, attr.text) {
		return nil, fmt.Errorf("unsupported attribute %q", attr.text)
	}
	opName := strings.ToLower(op.text)
	if op.quoted || !slices.Contains(filterOperators, opName) {
		return nil, fmt.Errorf("unsupported operator %q", op.text)
	}
	if opName == "sw" && eqOnlyAttributes[attr.text] {
		return nil, fmt.Errorf("attribute %s supports only eq", attr.text)
	}
	if !val.quoted {
		return nil, fmt.Errorf("the value for %s must be a double-quoted string", attr.text)
	}
	get := attributeGetter(attr.text)
	want := strings.ToLower(val.text)
	if opName == "sw" {
		return func(g *Group) bool { return strings.HasPrefix(strings.ToLower(get(g)), want) }, nil
	}
	return func(g *Group) bool { return strings.ToLower(get(g)) == want }, nil
}

func attributeGetter(attr string) func(*Group) string {
	switch attr {
	case "name", "displayName":
		// The fixture keeps no separate display name, so displayName filters see the name.
		return func(g *Group) string { return g.Name }
	case "externalId":
		return func(g *Group) string { return g.ExternalID }
	case "id":
		return func(g *Group) string { return g.ID }
	case "population.id":
		return func(g *Group) string { return g.PopulationID }
	default: // sourceId
		return func(g *Group) string { return g.SourceID }
	}
}
