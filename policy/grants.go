package policy

import (
	"sort"
	"strings"
)

// GrantChange is one grant (effect × principal × action × resource ×
// conditions) that exists in only one of two policy sets.
type GrantChange struct {
	Effect    string // Allow or Deny
	Principal string // "" in identity policies; "Service:ec2.amazonaws.com", "AWS:arn:…", "*" or "NotPrincipal:{…}" otherwise
	Action    string // an action pattern, or "NotAction:[…]"
	Resource  string // a resource pattern, "NotResource:[…]", or "" when the statement names none (trust policies)
	Condition string // the statement's Condition as compact canonical JSON, "" when it has none
	Added     bool   // present in the new set only; otherwise removed
	// Broadens marks a change that widens access: an added Allow, or a
	// removed Deny, that the other set does not already cover.
	Broadens bool
}

// grant is a GrantChange's identity with the parsed conditions kept for
// coverage checks.
type grant struct {
	effect, principal, action, resource, condition string
	cond                                           Conditions
}

// DiffGrants lists the grants that differ between the old and the new
// policy documents (nil documents are skipped), sorted by resource, action,
// principal, condition, effect and removals first. An added Allow broadens
// unless an old Allow already covers its action, resource, principal and
// conditions (wildcards and narrower condition values are understood);
// removing an Allow narrows. For Deny it is the other way round.
func DiffGrants(old, new []*Document) []GrantChange {
	o, n := expandGrants(old), expandGrants(new)
	var out []GrantChange
	for key, g := range n {
		if _, ok := o[key]; ok {
			continue
		}
		out = append(out, g.change(true, g.effect == Allow && !covered(g, o, Allow)))
	}
	for key, g := range o {
		if _, ok := n[key]; ok {
			continue
		}
		out = append(out, g.change(false, g.effect == Deny && !covered(g, n, Deny)))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		for _, c := range [][2]string{{a.Resource, b.Resource}, {a.Action, b.Action}, {a.Principal, b.Principal}, {a.Condition, b.Condition}, {a.Effect, b.Effect}} {
			if c[0] != c[1] {
				return c[0] < c[1]
			}
		}
		return !a.Added && b.Added
	})
	return out
}

func (g grant) change(added, broadens bool) GrantChange {
	return GrantChange{Effect: g.effect, Principal: g.principal, Action: g.action, Resource: g.resource, Condition: g.condition, Added: added, Broadens: broadens}
}

func expandGrants(docs []*Document) map[string]grant {
	out := map[string]grant{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.normalized().Statement {
			for _, c := range alternatives(s.Condition) {
				var cond string
				if len(c) > 0 {
					cond = compactJSON(c.tree())
				}
				for _, p := range principalsOf(s) {
					for _, a := range listOrNot(s.Action, "NotAction", s.NotAction) {
						for _, r := range listOrNot(s.Resource, "NotResource", s.NotResource) {
							g := grant{effect: s.Effect, principal: p, action: a, resource: r, condition: cond, cond: c}
							out[strings.Join([]string{g.effect, g.principal, g.action, g.resource, g.condition}, "\x00")] = g
						}
					}
				}
			}
		}
	}
	return out
}

func principalsOf(s Statement) []string {
	switch {
	case s.Principal != nil && s.Principal.Wildcard:
		return []string{"*"}
	case s.Principal != nil:
		var out []string
		for _, k := range sortedKeys(s.Principal.Values) {
			for _, v := range s.Principal.Values[k] {
				out = append(out, k+":"+v)
			}
		}
		return out
	case s.NotPrincipal != nil:
		return []string{"NotPrincipal:" + compactJSON(s.NotPrincipal.tree())}
	}
	return []string{""}
}

// listOrNot expands an element into the values a grant is made of; a Not…
// element is kept whole because its complement cannot be listed.
func listOrNot(list StringList, notName string, not StringList) []string {
	switch {
	case list != nil:
		return list
	case not != nil:
		return []string{notName + ":" + compactJSON([]string(not))}
	}
	return []string{""}
}

// covered reports whether some grant of set with the given effect grants
// at least everything g grants.
func covered(g grant, set map[string]grant, effect string) bool {
	for _, c := range set {
		if c.effect == effect && c.principal == g.principal &&
			patternCovers(c.action, g.action, true) && patternCovers(c.resource, g.resource, false) &&
			conditionsCover(c.cond, g.cond) {
			return true
		}
	}
	return false
}

// patternCovers reports whether every string matched by pattern b is matched
// by pattern a. It is glob matching with b's wildcards as tokens: a literal
// in a matches only the same literal, '?' matches a literal or '?', and '*'
// matches any run of tokens. Not… grants only cover themselves.
func patternCovers(a, b string, fold bool) bool {
	if strings.HasPrefix(a, "Not") || strings.HasPrefix(b, "Not") {
		return a == b
	}
	if fold {
		a, b = strings.ToLower(a), strings.ToLower(b)
	}
	p, t := []rune(a), []rune(b)
	// memo[i][j]: does p[i:] cover t[j:]?
	memo := make(map[[2]int]bool)
	var cover func(i, j int) bool
	cover = func(i, j int) bool {
		k := [2]int{i, j}
		if v, ok := memo[k]; ok {
			return v
		}
		var r bool
		switch {
		case i == len(p):
			r = j == len(t)
		case p[i] == '*':
			r = cover(i+1, j) || (j < len(t) && cover(i, j+1))
		case j == len(t):
			r = false
		case p[i] == '?':
			r = t[j] != '*' && cover(i+1, j+1)
		default:
			r = p[i] == t[j] && cover(i+1, j+1)
		}
		memo[k] = r
		return r
	}
	return cover(0, 0)
}

// conditionsCover reports whether conditions a are implied by conditions b,
// so a statement with a grants at least what the same statement with b
// grants: every key of a must appear in b under the same operator with
// fewer alternatives (a subset of values for positive operators, a superset
// for negated ones, the same for Null). Extra conditions in b only narrow.
func conditionsCover(a, b Conditions) bool {
	for op, keys := range a {
		parsed, err := parseOperator(op)
		if err != nil {
			return false
		}
		for key, av := range keys {
			bv, ok := findKey(b[op], key)
			if !ok {
				return false
			}
			switch {
			case parsed.base == "Null":
				if !subset(av, bv) || !subset(bv, av) {
					return false
				}
			case parsed.negated:
				if !subset(av, bv) {
					return false
				}
			default:
				if !subset(bv, av) {
					return false
				}
			}
		}
	}
	return true
}

func findKey(m map[string]StringList, key string) (StringList, bool) {
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// subset reports whether every value of x is in y.
func subset(x, y StringList) bool {
	for _, v := range x {
		if !contains(y, v) {
			return false
		}
	}
	return true
}

// maxAlternatives bounds the expansion of a condition block; a block with
// more combinations is kept whole (coverage is then checked as a block).
const maxAlternatives = 4096

// alternatives splits a condition block into blocks with one value per key
// wherever the values of a key are alternatives (positive operators without
// a set prefix), so that a kms:EncryptionContext:SecretARN list yields one
// grant per secret, just as a Resource list does. Their union grants
// exactly what the block grants.
func alternatives(c Conditions) []Conditions {
	out := []Conditions{{}}
	for _, opName := range sortedKeys(c) {
		op, err := parseOperator(opName)
		splittable := err == nil && !op.negated && op.set == "" && op.base != "Null"
		for _, key := range sortedKeys(c[opName]) {
			values := c[opName][key]
			parts := []StringList{values}
			if splittable && len(values) > 1 && len(out)*len(values) <= maxAlternatives {
				parts = parts[:0]
				for _, v := range values {
					parts = append(parts, StringList{v})
				}
			}
			var next []Conditions
			for _, base := range out {
				for _, part := range parts {
					n := make(Conditions, len(base)+1)
					for o, keys := range base {
						n[o] = keys
					}
					m := make(map[string]StringList, len(n[opName])+1)
					for k, v := range n[opName] {
						m[k] = v
					}
					m[key] = part
					n[opName] = m
					next = append(next, n)
				}
			}
			out = next
		}
	}
	if len(c) == 0 {
		return []Conditions{nil}
	}
	return out
}
