package wire

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// maxMembers bounds list decoding so that a hostile request cannot make the
// sandbox loop over a huge index range.
const maxMembers = 1000

// List returns the values of the awsQuery list name (name.member.1,
// name.member.2, …) in order. Decoding stops at the first missing index, as
// the SDK serialisers never leave gaps.
func List(form url.Values, name string) []string {
	var out []string
	for i := 1; i <= maxMembers; i++ {
		k := name + ".member." + strconv.Itoa(i)
		if _, ok := form[k]; !ok {
			break
		}
		out = append(out, form.Get(k))
	}
	return out
}

// Structs returns the members of the awsQuery list of structures name, each
// as its own form with the name.member.N. prefix removed, so that nested
// fields are read with the same helpers as top-level ones.
func Structs(form url.Values, name string) []url.Values {
	var out []url.Values
	for i := 1; i <= maxMembers; i++ {
		prefix := name + ".member." + strconv.Itoa(i) + "."
		sub := url.Values{}
		for k, v := range form {
			if rest, ok := strings.CutPrefix(k, prefix); ok {
				sub[rest] = v
			}
		}
		if len(sub) == 0 {
			break
		}
		out = append(out, sub)
	}
	return out
}

// Int reads an optional integer parameter; def is returned when it is absent.
// A malformed number is an error whose message names the parameter, in the
// form of AWS's ValidationError.
func Int(form url.Values, name string, def int) (int, error) {
	if _, ok := form[name]; !ok {
		return def, nil
	}
	n, err := strconv.Atoi(form.Get(name))
	if err != nil {
		return 0, fmt.Errorf("value for parameter %s is not a valid integer", name)
	}
	return n, nil
}

// Bool reads an optional boolean parameter ("true"/"false"); def is returned
// when it is absent.
func Bool(form url.Values, name string, def bool) (bool, error) {
	if _, ok := form[name]; !ok {
		return def, nil
	}
	b, err := strconv.ParseBool(form.Get(name))
	if err != nil {
		return false, fmt.Errorf("value for parameter %s is not a valid boolean", name)
	}
	return b, nil
}

// EscapeDocument encodes a policy document the way IAM returns documents:
// RFC 3986 percent-encoding of everything but the unreserved characters, so
// that callers' url.QueryUnescape gives back the exact text that was stored.
func EscapeDocument(doc string) string {
	// QueryEscape already leaves exactly the unreserved set alone and encodes
	// a literal '+' as %2B, so every '+' it emits stands for a space.
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
