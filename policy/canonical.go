package policy

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Canonical renders the document as reviewers see it: elements in a fixed
// order (Version, Id, Statement; Sid, Effect, Principal, NotPrincipal,
// Action, NotAction, Resource, NotResource, Condition), lists sorted and
// de-duplicated, a single value as a plain string, 2-space indentation and a
// trailing newline. Statement order is preserved. Equal documents render to
// equal bytes.
func (d *Document) Canonical() []byte {
	var b bytes.Buffer
	writeValue(&b, d.normalized().tree(), "  ", 0)
	b.WriteByte('\n')
	return b.Bytes()
}

// Compact is Canonical without whitespace, for API calls.
func (d *Document) Compact() []byte {
	var b bytes.Buffer
	writeValue(&b, d.normalized().tree(), "", 0)
	return b.Bytes()
}

// MarshalJSON encodes the document in its compact canonical form, so a
// Document embedded in another JSON value (a saved plan) is deterministic.
// It has a value receiver so that non-pointer fields encode the same way.
func (d Document) MarshalJSON() ([]byte, error) { return d.Compact(), nil }

// MarshalJSON encodes a single value as a string and several as a list,
// in their given order.
func (l StringList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	return []byte(compactJSON(l.tree())), nil
}

// UnmarshalJSON accepts a string or a list of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	v, err := parseStrings(b, false)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalJSON decodes a document with Parse's rules.
func (d *Document) UnmarshalJSON(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	*d = *p
	return nil
}

// Size is the number of characters IAM counts against its policy size
// quotas: the characters of the JSON that are not whitespace.
func Size(d *Document) int { return RawSize(d.Compact()) }

// RawSize counts the non-whitespace characters of a policy document as
// submitted, which is what IAM compares with its quotas. White space is
// JSON's (space, tab, line feed, carriage return), the only white space a
// policy document may hold: IAM allows U+0020–U+00FF besides, where
// U+0085 and U+00A0 count as characters (the sandbox's independent
// counting pins this).
func RawSize(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, w := utf8.DecodeRune(b)
		b = b[w:]
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// field and object keep JSON members in a fixed order, which encoding/json
// cannot do for maps.
type field struct {
	key   string
	value any // string, []string, object or []object
}

type object []field

func (d *Document) tree() object {
	var o object
	if d.Version != "" {
		o = append(o, field{"Version", d.Version})
	}
	if d.ID != "" {
		o = append(o, field{"Id", d.ID})
	}
	stmts := make([]object, len(d.Statement))
	for i, s := range d.Statement {
		stmts[i] = s.tree()
	}
	return append(o, field{"Statement", stmts})
}

func (s *Statement) tree() object {
	var o object
	if s.Sid != "" {
		o = append(o, field{"Sid", s.Sid})
	}
	o = append(o, field{"Effect", s.Effect})
	if s.Principal != nil {
		o = append(o, field{"Principal", s.Principal.tree()})
	}
	if s.NotPrincipal != nil {
		o = append(o, field{"NotPrincipal", s.NotPrincipal.tree()})
	}
	for _, e := range []struct {
		name string
		l    StringList
	}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
		if e.l != nil {
			o = append(o, field{e.name, e.l.tree()})
		}
	}
	if len(s.Condition) > 0 {
		o = append(o, field{"Condition", s.Condition.tree()})
	}
	return o
}

func (c Conditions) tree() object {
	var o object
	for _, op := range sortedKeys(c) {
		var keys object
		for _, k := range sortedKeys(c[op]) {
			keys = append(keys, field{k, c[op][k].tree()})
		}
		o = append(o, field{op, keys})
	}
	return o
}

// compactJSON renders one canonical value (from a tree method) without
// whitespace.
func compactJSON(v any) string {
	var b bytes.Buffer
	writeValue(&b, v, "", 0)
	return b.String()
}

func (p *Principal) tree() any {
	if p.Wildcard {
		return "*"
	}
	var o object
	for _, k := range sortedKeys(p.Values) {
		o = append(o, field{k, p.Values[k].tree()})
	}
	return o
}

// tree renders a single value as a string, as IAM itself does, so that a
// one-secret policy reads naturally.
func (l StringList) tree() any {
	if len(l) == 1 {
		return l[0]
	}
	return []string(l)
}

func writeValue(b *bytes.Buffer, v any, indent string, depth int) {
	switch v := v.(type) {
	case string:
		writeString(b, v)
	case []string:
		writeList(b, len(v), indent, depth, func(i int) { writeString(b, v[i]) })
	case []object:
		writeList(b, len(v), indent, depth, func(i int) { writeValue(b, v[i], indent, depth+1) })
	case object:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteByte('{')
		for i, f := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, indent, depth+1)
			writeString(b, f.key)
			b.WriteByte(':')
			if indent != "" {
				b.WriteByte(' ')
			}
			writeValue(b, f.value, indent, depth+1)
		}
		newline(b, indent, depth)
		b.WriteByte('}')
	}
}

func writeList(b *bytes.Buffer, n int, indent string, depth int, item func(int)) {
	if n == 0 {
		b.WriteString("[]")
		return
	}
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		newline(b, indent, depth+1)
		item(i)
	}
	newline(b, indent, depth)
	b.WriteByte(']')
}

func newline(b *bytes.Buffer, indent string, depth int) {
	if indent == "" {
		return
	}
	b.WriteByte('\n')
	for range depth {
		b.WriteString(indent)
	}
}

// writeString writes s as a JSON string without HTML escaping: reviewers
// should see "<" and "&" as written, and IAM counts them as one character.
func writeString(b *bytes.Buffer, s string) {
	if plainASCII(s) {
		b.WriteByte('"')
		b.WriteString(s)
		b.WriteByte('"')
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // encoding a string cannot fail
	b.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// plainASCII reports whether s needs no JSON escaping, which holds for
// nearly every ARN and action and spares an encoder per string.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
