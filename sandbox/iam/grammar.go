package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
)

// IAM's rules for policy documents, written from the IAM User Guide ("IAM
// JSON policy elements", "Grammar of the IAM JSON policy language", "IAM
// and AWS STS quotas") and the error texts IAM answers with, and on
// purpose not from the engine's policy package: a fake AWS that validated
// with the engine's own parser and size counting would agree with every
// engine bug. grammar_test.go pins the two against each other on a corpus,
// so that a disagreement fails a test instead of being shared. The
// sandbox still evaluates documents with policy.Evaluate, which needs
// policy.Parse; that parse comes after these checks and decides nothing.

// policySize counts a document as IAM's size quotas do: every character
// except white space, wherever it stands. A document may hold only tab,
// line feed, carriage return and U+0020–U+00FF (policyChars), so white
// space is those three and the space; U+00A0 and U+0085 count.
func policySize(text string) int {
	n := 0
	for _, r := range text {
		switch r {
		case ' ', '\t', '\n', '\r':
		default:
			n++
		}
	}
	return n
}

// policyChars reports whether text keeps to the characters the IAM API
// model allows in every policy document parameter:
// [\u0009\u000A\u000D\u0020-\u00FF]+. Beyond them is a ValidationError,
// before any policy rule.
func policyChars(text string) bool {
	for _, r := range text {
		if r != '\t' && r != '\n' && r != '\r' && (r < 0x20 || r > 0xFF) {
			return false
		}
	}
	return true
}

var (
	errSyntax       = malformedPolicy("Syntax errors in policy.")
	sidPattern      = regexp.MustCompile(`^[0-9A-Za-z]*$`)
	vendorPattern   = regexp.MustCompile(`^[a-zA-Z0-9.-]+$`)
	accountPattern  = regexp.MustCompile(`^\d{12}$`)
	awsPrincipal    = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$`)
	federatedARN    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(saml-provider|oidc-provider)/.+$`)
	servicePattern  = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)+$`)
	canonicalUserID = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// The elements IAM knows, by where they may stand.
var (
	topElements       = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
	principalTypes    = []string{"AWS", "Service", "Federated", "CanonicalUser"}
	// The condition operators of "IAM JSON policy elements: Condition
	// operators", before the ForAnyValue:/ForAllValues: qualifiers and the
	// IfExists suffix.
	conditionOperators = []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null",
	}
	// What a trust policy may grant: assuming the role and what goes with
	// an assumption.
	trustActions = []string{"sts:AssumeRole", "sts:AssumeRoleWithSAML", "sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity", "sts:SetContext"}
)

// checkDocument validates a policy document as IAM does where it is used
// (kind), answering MalformedPolicyDocument with IAM's message. No message
// quotes the document beyond an element name or a condition operator.
func checkDocument(text string, kind documentKind) error {
	root, err := decodeOrdered([]byte(text))
	if err != nil {
		return errSyntax
	}
	doc, ok := root.(*jsonObject)
	if !ok || !doc.only(topElements) {
		return errSyntax
	}
	if v, ok := doc.get("Version"); ok {
		if s, _ := v.(string); s != "2012-10-17" && s != "2008-10-17" {
			return malformedPolicy("The policy must contain a valid version string")
		}
	} else if kind == trustPolicy {
		// The IAM guide says a missing Version means 2008-10-17, but
		// CreateRole and UpdateAssumeRolePolicy were recorded refusing a
		// trust policy without one (issue #14's recorded AWS responses).
		return malformedPolicy("The policy failed legacy parsing")
	}
	if v, ok := doc.get("Id"); ok {
		if _, ok := v.(string); !ok {
			return errSyntax
		}
	}
	var statements []*jsonObject
	switch v, _ := doc.get("Statement"); v := v.(type) {
	case *jsonObject:
		statements = []*jsonObject{v}
	case []any:
		for _, s := range v {
			o, ok := s.(*jsonObject)
			if !ok {
				return errSyntax
			}
			statements = append(statements, o)
		}
	}
	if len(statements) == 0 {
		return errSyntax
	}
	sids := map[string]bool{}
	for _, s := range statements {
		if err := checkStatement(s, kind); err != nil {
			return err
		}
		// A statement without a Sid, or with an empty one, clashes with none.
		v, _ := s.get("Sid")
		if sid, _ := v.(string); sid != "" {
			if sids[sid] {
				return malformedPolicy("Statement IDs (SID) in a single policy must be unique.")
			}
			sids[sid] = true
		}
	}
	return nil
}

func checkStatement(s *jsonObject, kind documentKind) error {
	if !s.only(statementElements) {
		return errSyntax
	}
	for _, pair := range [][2]string{{"Principal", "NotPrincipal"}, {"Action", "NotAction"}, {"Resource", "NotResource"}} {
		_, a := s.get(pair[0])
		_, b := s.get(pair[1])
		if a && b {
			return errSyntax
		}
	}
	if v, ok := s.get("Sid"); ok {
		sid, ok := v.(string)
		if !ok {
			return errSyntax
		}
		if !sidPattern.MatchString(sid) {
			return malformedPolicy("Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
	}
	if v, _ := s.get("Effect"); v != "Allow" && v != "Deny" {
		return errSyntax
	}

	actions, err := stringsElement(s, "Action")
	if err != nil {
		return err
	}
	notActions, err := stringsElement(s, "NotAction")
	if err != nil {
		return err
	}
	if len(actions)+len(notActions) == 0 {
		return malformedPolicy("Policy statement must contain actions.")
	}
	for _, a := range append(actions, notActions...) {
		if err := checkAction(a); err != nil {
			return err
		}
	}

	var resources []string
	for _, name := range []string{"Resource", "NotResource"} {
		l, err := stringsElement(s, name)
		if err != nil {
			return err
		}
		resources = append(resources, l...)
	}
	for _, r := range resources {
		if !arnOrWildcard(r) {
			return malformedPolicy(`Resource must be in ARN format or "*".`)
		}
	}

	_, hasPrincipal := s.get("Principal")
	_, hasNotPrincipal := s.get("NotPrincipal")
	switch kind {
	case identityPolicy:
		if hasPrincipal || hasNotPrincipal {
			return malformedPolicy("Policy document should not specify a principal.")
		}
		if len(resources) == 0 {
			return malformedPolicy("Policy statement must contain resources.")
		}
	case trustPolicy:
		if !hasPrincipal && !hasNotPrincipal {
			return malformedPolicy("AssumeRolepolicy contained an invalid principal.")
		}
		if _, ok := s.get("Resource"); ok {
			return malformedPolicy("Has prohibited field Resource")
		}
		if _, ok := s.get("NotResource"); ok {
			return malformedPolicy("Has prohibited field Resource")
		}
		for _, a := range actions {
			if !slices.Contains(trustActions, a) {
				return malformedPolicy("Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity")
			}
		}
	}
	for _, name := range []string{"Principal", "NotPrincipal"} {
		if v, ok := s.get(name); ok {
			if err := checkPrincipal(v); err != nil {
				return err
			}
		}
	}
	if v, ok := s.get("Condition"); ok {
		return checkCondition(v)
	}
	return nil
}

// stringsElement reads an element that is a string or a list of strings.
func stringsElement(s *jsonObject, name string) ([]string, error) {
	v, ok := s.get(name)
	if !ok {
		return nil, nil
	}
	l, ok := stringList(v)
	if !ok {
		return nil, errSyntax
	}
	return l, nil
}

func stringList(v any) ([]string, bool) {
	switch v := v.(type) {
	case string:
		return []string{v}, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// checkAction: "*", or a service prefix, one colon and an action name
// (which may hold wildcards).
func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	switch {
	case !ok:
		return malformedPolicy("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")
	case strings.Contains(name, ":"):
		return malformedPolicy("Actions/Condition can contain only one colon.")
	case !vendorPattern.MatchString(vendor):
		return malformedPolicy("Vendor is not valid")
	}
	return nil
}

// arnOrWildcard: "*" or arn:partition:service:region:account:resource,
// where region and account may be empty (IAM and S3 ARNs) and any part
// may hold wildcards.
func arnOrWildcard(r string) bool {
	if r == "*" {
		return true
	}
	parts := strings.SplitN(r, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] != "" && parts[5] != ""
}

// checkPrincipal: "*", or an object of principal types whose values are
// a string or a non-empty list, each of the form its type takes: an
// account ID or an IAM or STS ARN for AWS, a service's DNS name for
// Service, an identity provider's ARN or DNS name for Federated, a
// 64-hex-digit ID for CanonicalUser.
func checkPrincipal(v any) error {
	invalid := malformedPolicy("Invalid principal in policy")
	if v == "*" {
		return nil
	}
	o, ok := v.(*jsonObject)
	if !ok || len(o.keys) == 0 {
		return invalid
	}
	for _, typ := range o.keys {
		if !slices.Contains(principalTypes, typ) {
			return invalid
		}
		values, ok := stringList(o.vals[typ])
		if !ok || len(values) == 0 {
			return invalid
		}
		for _, p := range values {
			var valid bool
			switch typ {
			case "AWS":
				valid = p == "*" || accountPattern.MatchString(p) || awsPrincipal.MatchString(p)
			case "Service":
				valid = servicePattern.MatchString(p)
			case "Federated":
				valid = federatedARN.MatchString(p) || servicePattern.MatchString(p)
			case "CanonicalUser":
				valid = canonicalUserID.MatchString(p)
			}
			if !valid {
				return invalid
			}
		}
	}
	return nil
}

// checkCondition: operators IAM knows, each over condition keys whose
// values are strings, numbers, booleans or lists of them.
func checkCondition(v any) error {
	ops, ok := v.(*jsonObject)
	if !ok {
		return errSyntax
	}
	for _, op := range ops.keys {
		base := strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:")
		if base != "Null" {
			base = strings.TrimSuffix(base, "IfExists")
		}
		if !slices.Contains(conditionOperators, base) {
			return malformedPolicy("Invalid Condition type : %s", op)
		}
		keys, ok := ops.vals[op].(*jsonObject)
		if !ok {
			return errSyntax
		}
		for _, k := range keys.keys {
			values := []any{keys.vals[k]}
			if l, ok := keys.vals[k].([]any); ok {
				values = l
			}
			for _, x := range values {
				switch x.(type) {
				case string, json.Number, bool:
				default:
					return errSyntax
				}
			}
		}
	}
	return nil
}

// jsonObject keeps a JSON object's members in order, for messages and
// checks that must not depend on map order.
type jsonObject struct {
	keys []string
	vals map[string]any
}

func (o *jsonObject) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// only reports whether every member is one of allowed (names are
// case-sensitive in IAM's grammar).
func (o *jsonObject) only(allowed []string) bool {
	for _, k := range o.keys {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}

// decodeOrdered decodes one JSON value: objects as *jsonObject, arrays as
// []any, numbers as json.Number. A key given twice is an error: which of
// the two IAM would read is not documented, and a reviewer could read the
// other one.
func decodeOrdered(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string) // the decoder yields only string keys in an object
			if _, dup := o.vals[k]; dup {
				return nil, errors.New("duplicate key")
			}
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k)
			o.vals[k] = v
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		l := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		_, err := dec.Token() // ']'
		return l, err
	}
	return tok, nil
}
