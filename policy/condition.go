package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// operator is a parsed condition operator such as
// "ForAllValues:StringLikeIfExists".
type operator struct {
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
	base     string // e.g. "StringLike"
	negated  bool   // base is the negation of a positive operator
	compare  func(policyValue, contextValue string) bool
}

// positive holds the comparison of each positive operator; the negated
// operators are listed in negations with the positive operator they negate.
var positive = map[string]func(p, c string) bool{
	"StringEquals":             func(p, c string) bool { return p == c },
	"StringEqualsIgnoreCase":   strings.EqualFold,
	"StringLike":               globMatch,
	"ArnEquals":                arnMatches,
	"ArnLike":                  arnMatches,
	"Bool":                     strings.EqualFold,
	"BinaryEquals":             func(p, c string) bool { return p == c },
	"NumericEquals":            numeric(func(p, c float64) bool { return c == p }),
	"NumericLessThan":          numeric(func(p, c float64) bool { return c < p }),
	"NumericLessThanEquals":    numeric(func(p, c float64) bool { return c <= p }),
	"NumericGreaterThan":       numeric(func(p, c float64) bool { return c > p }),
	"NumericGreaterThanEquals": numeric(func(p, c float64) bool { return c >= p }),
	"DateEquals":               date(func(p, c time.Time) bool { return c.Equal(p) }),
	"DateLessThan":             date(func(p, c time.Time) bool { return c.Before(p) }),
	"DateLessThanEquals":       date(func(p, c time.Time) bool { return !c.After(p) }),
	"DateGreaterThan":          date(func(p, c time.Time) bool { return c.After(p) }),
	"DateGreaterThanEquals":    date(func(p, c time.Time) bool { return !c.Before(p) }),
	"IpAddress":                ipInPrefix,
}

var negations = map[string]string{
	"StringNotEquals":           "StringEquals",
	"StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike":             "StringLike",
	"ArnNotEquals":              "ArnEquals",
	"ArnNotLike":                "ArnLike",
	"NumericNotEquals":          "NumericEquals",
	"DateNotEquals":             "DateEquals",
	"NotIpAddress":              "IpAddress",
}

// parseOperator splits an operator into its set prefix, base and IfExists
// suffix. Unknown operators are errors, as IAM rejects them.
func parseOperator(name string) (operator, error) {
	var op operator
	rest := name
	if set, base, ok := strings.Cut(rest, ":"); ok {
		if set != "ForAnyValue" && set != "ForAllValues" {
			return op, fmt.Errorf("unknown condition set operator %q", name)
		}
		op.set, rest = set, base
	}
	if name == "Null" {
		op.base = "Null"
		return op, nil
	}
	if b, ok := strings.CutSuffix(rest, "IfExists"); ok {
		op.ifExists, rest = true, b
	}
	op.base = rest
	if pos, ok := negations[rest]; ok {
		op.negated, rest = true, pos
	}
	op.compare = positive[rest]
	if op.compare == nil {
		return op, fmt.Errorf("unknown condition operator %q", name)
	}
	return op, nil
}

func numeric(cmp func(p, c float64) bool) func(p, c string) bool {
	return func(p, c string) bool {
		pf, err1 := strconv.ParseFloat(p, 64)
		cf, err2 := strconv.ParseFloat(c, 64)
		return err1 == nil && err2 == nil && cmp(pf, cf)
	}
}

func date(cmp func(p, c time.Time) bool) func(p, c string) bool {
	return func(p, c string) bool {
		pt, ok1 := parseDate(p)
		ct, ok2 := parseDate(c)
		return ok1 && ok2 && cmp(pt, ct)
	}
}

// parseDate accepts the ISO 8601 forms and epoch seconds that IAM accepts
// in date conditions.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func ipInPrefix(p, c string) bool {
	addr, err := netip.ParseAddr(c)
	if err != nil {
		return false
	}
	if pre, err := netip.ParsePrefix(p); err == nil {
		return pre.Contains(addr.Unmap())
	}
	pa, err := netip.ParseAddr(p)
	return err == nil && pa.Unmap() == addr.Unmap()
}

// holds evaluates one operator on one condition key. ctx holds the request
// values of that key; present says whether the key is in the request.
func (op operator) holds(values StringList, ctx []string, present bool) bool {
	if op.base == "Null" {
		for _, v := range values {
			if strings.EqualFold(v, "true") != present {
				return true
			}
		}
		return false
	}
	if !present && op.ifExists {
		return true
	}
	// matches reports whether one request value satisfies the base
	// operator: any policy value for positive operators, none for negated
	// ones (negated operators with several values act as NOR).
	matches := func(c string) bool {
		for _, p := range values {
			if op.compare(p, c) {
				return !op.negated
			}
		}
		return op.negated
	}
	switch op.set {
	case "ForAllValues":
		for _, c := range ctx {
			if !matches(c) {
				return false
			}
		}
		return true // also for an empty or missing set
	case "ForAnyValue":
		for _, c := range ctx {
			if matches(c) {
				return true
			}
		}
		return false // also for an empty or missing set
	}
	if !present {
		return op.negated
	}
	if op.negated {
		for _, c := range ctx {
			if !matches(c) {
				return false
			}
		}
		return true
	}
	for _, c := range ctx {
		if matches(c) {
			return true
		}
	}
	return false
}

// conditionsHold evaluates a condition block: all operators and all keys
// must hold. ok is false when an operator is not understood, which only
// happens for documents built in Go without Parse.
func conditionsHold(c Conditions, ctx map[string][]string) (holds, ok bool) {
	for name, keys := range c {
		op, err := parseOperator(name)
		if err != nil {
			return false, false
		}
		for key, values := range keys {
			v, present := lookup(ctx, key)
			if !op.holds(values, v, present) {
				return false, true
			}
		}
	}
	return true, true
}

// lookup finds a condition key case-insensitively, as IAM compares key
// names. A key with no values counts as absent for single-valued operators.
func lookup(ctx map[string][]string, key string) ([]string, bool) {
	if v, ok := ctx[key]; ok {
		return v, len(v) > 0
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v, len(v) > 0
		}
	}
	return nil, false
}
