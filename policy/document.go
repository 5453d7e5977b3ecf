package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
)

// Document is an IAM policy document: an identity, boundary, resource or
// trust policy.
type Document struct {
	Version   string // "" when absent; otherwise "2012-10-17" or "2008-10-17"
	ID        string // the "Id" element, "" when absent
	Statement []Statement
}

// Statement is one statement of a policy document. A nil list or pointer
// means the element is absent.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"

	Principal, NotPrincipal *Principal

	Action, NotAction, Resource, NotResource StringList

	Condition Conditions
}

// StringList is a policy element that JSON spells as a single string or as a
// list of strings.
type StringList []string

// Principal is the "*" principal (Wildcard) or a map from principal type
// ("AWS", "Service", "Federated", "CanonicalUser") to values.
type Principal struct {
	Wildcard bool
	Values   map[string]StringList
}

// Conditions maps a condition operator (e.g. "StringEquals",
// "ForAnyValue:StringLike") to condition keys and their values.
type Conditions map[string]map[string]StringList

// Effects of a statement.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

var (
	documentKeys  = []string{"Version", "Id", "Statement"}
	statementKeys = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	principalKeys = []string{"AWS", "CanonicalUser", "Federated", "Service"}
)

// Parse decodes a policy document as IAM accepts it: JSON, or JSON that is
// URL-encoded as the IAM API returns it. Element names are case-sensitive.
// As for IAM, unknown elements, a bad Version or Effect, an empty Statement,
// duplicate Sids and unknown condition operators are errors; so are
// duplicate JSON keys, which would let a reviewer read one value while IAM
// uses another. A Statement given as a single object is accepted.
func Parse(b []byte) (*Document, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		// IAM responses URL-encode documents per RFC 3986, so '+' is a
		// literal plus and PathUnescape (not QueryUnescape) is right.
		s, err := url.PathUnescape(string(b))
		if err != nil {
			return nil, fmt.Errorf("policy: not JSON and not URL-encoded JSON: %w", err)
		}
		b = bytes.TrimSpace([]byte(s))
	}
	if !json.Valid(b) {
		return nil, errors.New("policy: document is not valid JSON")
	}
	fields, err := objectFields(b, documentKeys)
	if err != nil {
		return nil, fmt.Errorf("policy: document: %w", err)
	}
	d := &Document{}
	if raw, ok := fields["Version"]; ok {
		if err := json.Unmarshal(raw, &d.Version); err != nil {
			return nil, errors.New("policy: Version must be a string")
		}
		if d.Version != "2012-10-17" && d.Version != "2008-10-17" {
			return nil, fmt.Errorf("policy: unsupported Version %q (want 2012-10-17 or 2008-10-17)", d.Version)
		}
	}
	if raw, ok := fields["Id"]; ok {
		if err := json.Unmarshal(raw, &d.ID); err != nil {
			return nil, errors.New("policy: Id must be a string")
		}
	}
	raw, ok := fields["Statement"]
	if !ok {
		return nil, errors.New("policy: missing Statement")
	}
	var list []json.RawMessage
	switch firstByte(raw) {
	case '{':
		list = []json.RawMessage{raw}
	case '[':
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, fmt.Errorf("policy: Statement: %w", err)
		}
	default:
		return nil, errors.New("policy: Statement must be an object or a list of objects")
	}
	if len(list) == 0 {
		return nil, errors.New("policy: Statement is empty")
	}
	sids := map[string]bool{}
	for i, r := range list {
		s, err := parseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("policy: statement %d: %w", i+1, err)
		}
		if s.Sid != "" && sids[s.Sid] {
			// IAM requires statement IDs to be unique within a policy.
			return nil, fmt.Errorf("policy: statement %d: duplicate Sid %q", i+1, s.Sid)
		}
		sids[s.Sid] = true
		d.Statement = append(d.Statement, s)
	}
	return d, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var s Statement
	fields, err := objectFields(raw, statementKeys)
	if err != nil {
		return s, err
	}
	if r, ok := fields["Sid"]; ok {
		if err := json.Unmarshal(r, &s.Sid); err != nil {
			return s, errors.New("element Sid must be a string")
		}
	}
	r, ok := fields["Effect"]
	if !ok {
		return s, errors.New("missing Effect")
	}
	if err := json.Unmarshal(r, &s.Effect); err != nil || (s.Effect != Allow && s.Effect != Deny) {
		return s, fmt.Errorf("element Effect must be %q or %q", Allow, Deny)
	}
	for _, e := range []struct {
		name string
		dst  **Principal
	}{{"Principal", &s.Principal}, {"NotPrincipal", &s.NotPrincipal}} {
		if r, ok := fields[e.name]; ok {
			p, err := parsePrincipal(r)
			if err != nil {
				return s, fmt.Errorf("%s: %w", e.name, err)
			}
			*e.dst = p
		}
	}
	for _, e := range []struct {
		name string
		dst  *StringList
	}{{"Action", &s.Action}, {"NotAction", &s.NotAction}, {"Resource", &s.Resource}, {"NotResource", &s.NotResource}} {
		if r, ok := fields[e.name]; ok {
			l, err := parseStrings(r, false)
			if err != nil {
				return s, fmt.Errorf("%s: %w", e.name, err)
			}
			if len(l) == 0 {
				return s, fmt.Errorf("%s is empty", e.name)
			}
			*e.dst = l
		}
	}
	if r, ok := fields["Condition"]; ok {
		c, err := parseConditions(r)
		if err != nil {
			return s, fmt.Errorf("element Condition: %w", err)
		}
		s.Condition = c
	}
	switch {
	case s.Principal != nil && s.NotPrincipal != nil:
		return s, errors.New("both Principal and NotPrincipal")
	case s.Action != nil && s.NotAction != nil:
		return s, errors.New("both Action and NotAction")
	case s.Action == nil && s.NotAction == nil:
		return s, errors.New("missing Action or NotAction")
	case s.Resource != nil && s.NotResource != nil:
		return s, errors.New("both Resource and NotResource")
	}
	return s, nil
}

func parsePrincipal(raw json.RawMessage) (*Principal, error) {
	if firstByte(raw) == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return nil, errors.New(`a string principal must be "*"`)
		}
		return &Principal{Wildcard: true}, nil
	}
	fields, err := objectFields(raw, principalKeys)
	if err != nil {
		return nil, err
	}
	if len(fields) == 0 {
		return nil, errors.New("no principal given")
	}
	p := &Principal{Values: make(map[string]StringList, len(fields))}
	for k, r := range fields {
		l, err := parseStrings(r, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if len(l) == 0 {
			return nil, fmt.Errorf("%s is empty", k)
		}
		p.Values[k] = l
	}
	return p, nil
}

func parseConditions(raw json.RawMessage) (Conditions, error) {
	ops, err := objectFields(raw, nil)
	if err != nil {
		return nil, err
	}
	c := make(Conditions, len(ops))
	for op, r := range ops {
		if _, err := parseOperator(op); err != nil {
			return nil, err
		}
		keys, err := objectFields(r, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		m := make(map[string]StringList, len(keys))
		for k, kr := range keys {
			l, err := parseStrings(kr, true)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", op, k, err)
			}
			m[k] = l
		}
		c[op] = m
	}
	return c, nil
}

// parseStrings decodes a string or a list of strings. Condition values may
// also be JSON numbers and booleans (IAM accepts {"Bool": {"k": true}}); they
// keep their JSON text.
func parseStrings(raw json.RawMessage, scalars bool) (StringList, error) {
	if firstByte(raw) != '[' {
		s, err := parseScalar(raw, scalars)
		if err != nil {
			return nil, err
		}
		return StringList{s}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	l := make(StringList, 0, len(items))
	for _, it := range items {
		s, err := parseScalar(it, scalars)
		if err != nil {
			return nil, err
		}
		l = append(l, s)
	}
	return l, nil
}

func parseScalar(raw json.RawMessage, scalars bool) (string, error) {
	switch c := firstByte(raw); {
	case c == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case scalars && (c == 't' || c == 'f' || c == '-' || (c >= '0' && c <= '9')):
		return string(bytes.TrimSpace(raw)), nil
	}
	if scalars {
		return "", errors.New("want a string, number, boolean or a list of them")
	}
	return "", errors.New("want a string or a list of strings")
}

// objectFields decodes a JSON object into its members, rejecting duplicate
// keys and, when allowed is non-nil, keys not in allowed.
func objectFields(raw json.RawMessage, allowed []string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errors.New("want a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // json.Decoder only yields string keys inside an object
		if allowed != nil && !contains(allowed, key) {
			return nil, fmt.Errorf("unknown element %q", key)
		}
		if _, dup := fields[key]; dup {
			return nil, fmt.Errorf("duplicate element %q", key)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		fields[key] = v
	}
	return fields, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func firstByte(b []byte) byte {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

// Normalized returns a copy in canonical form: the document its Canonical
// bytes parse back to.
func (d *Document) Normalized() *Document { return d.normalized() }

// normalized returns a copy in canonical form: lists sorted and
// de-duplicated, empty condition blocks dropped. Statement order is kept
// because it is how reviewers and Sids identify statements.
func (d *Document) normalized() *Document {
	n := &Document{Version: d.Version, ID: d.ID, Statement: make([]Statement, len(d.Statement))}
	for i, s := range d.Statement {
		n.Statement[i] = Statement{
			Sid:          s.Sid,
			Effect:       s.Effect,
			Principal:    s.Principal.normalized(),
			NotPrincipal: s.NotPrincipal.normalized(),
			Action:       s.Action.normalized(),
			NotAction:    s.NotAction.normalized(),
			Resource:     s.Resource.normalized(),
			NotResource:  s.NotResource.normalized(),
			Condition:    s.Condition.normalized(),
		}
	}
	return n
}

func (l StringList) normalized() StringList {
	if l == nil {
		return nil
	}
	out := append(StringList{}, l...)
	sort.Strings(out)
	w := 0
	for i, s := range out {
		if i == 0 || s != out[w-1] {
			out[w] = s
			w++
		}
	}
	return out[:w]
}

func (p *Principal) normalized() *Principal {
	if p == nil {
		return nil
	}
	if p.Wildcard {
		return &Principal{Wildcard: true}
	}
	n := &Principal{Values: make(map[string]StringList, len(p.Values))}
	for k, v := range p.Values {
		n.Values[k] = v.normalized()
	}
	return n
}

func (c Conditions) normalized() Conditions {
	if len(c) == 0 {
		return nil
	}
	n := make(Conditions, len(c))
	for op, keys := range c {
		m := make(map[string]StringList, len(keys))
		for k, v := range keys {
			m[k] = v.normalized()
		}
		n[op] = m
	}
	return n
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
