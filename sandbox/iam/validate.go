package iam

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Patterns and limits from the IAM API model and AWS-FACTS §4.
var (
	namePattern       = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern       = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	pathPrefixPattern = regexp.MustCompile(`^/[\x21-\x7F]*$`)
	tagPattern        = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	sessionPattern    = regexp.MustCompile(`^[\w+=,.@-]*$`)
)

const (
	maxRoleName             = 64
	maxEntityName           = 128 // instance profiles and managed policies
	maxPath                 = 512
	maxDescription          = 1000
	maxTags                 = 50
	maxDocumentLength       = 131072 // model limit on any policy document parameter
	inlineAggregateMax      = 10240
	managedPolicyMax        = 6144
	trustPolicyMax          = 2048
	defaultAttachedPolicies = 10 // per role; Config.AttachedPoliciesPerRoleQuota raises it
	maxPolicyVersions       = 5
	defaultMaxSession       = 3600
)

// param is the lowerCamel name AWS uses for a parameter in validation
// messages ("roleName").
func param(name string) string {
	return strings.ToLower(name[:1]) + name[1:]
}

// required returns a mandatory string parameter.
func required(form url.Values, name string) (string, error) {
	if _, ok := form[name]; !ok {
		return "", validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", param(name))
	}
	return form.Get(name), nil
}

func checkLength(name, v string, min, max int) error {
	if n := utf8.RuneCountInString(v); n < min || n > max {
		return validationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length between %d and %d", param(name), min, max)
	}
	return nil
}

// entityName reads and checks a role, instance profile or policy name.
func entityName(form url.Values, field string, max int) (string, error) {
	v, err := required(form, field)
	if err != nil {
		return "", err
	}
	if err := checkLength(field, v, 1, max); err != nil {
		return "", err
	}
	if !namePattern.MatchString(v) {
		return "", validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", v, param(field))
	}
	return v, nil
}

// entityPath reads an optional Path (default "/").
func entityPath(form url.Values) (string, error) {
	if _, ok := form["Path"]; !ok {
		return "/", nil
	}
	p := form.Get("Path")
	if err := checkLength("Path", p, 1, maxPath); err != nil {
		return "", err
	}
	if !pathPattern.MatchString(p) {
		return "", validationError("1 validation error detected: Value '%s' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)", p)
	}
	return p, nil
}

// pathPrefix reads an optional PathPrefix filter (default "/").
func pathPrefix(form url.Values) (string, error) {
	if _, ok := form["PathPrefix"]; !ok {
		return "/", nil
	}
	p := form.Get("PathPrefix")
	if err := checkLength("PathPrefix", p, 1, maxPath); err != nil {
		return "", err
	}
	if !pathPrefixPattern.MatchString(p) {
		return "", validationError("1 validation error detected: Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*", p)
	}
	return p, nil
}

func description(form url.Values) (string, error) {
	d := form.Get("Description")
	return d, checkLength("Description", d, 0, maxDescription)
}

// parseTags reads a Tags list (Key/Value members) and checks it as IAM does.
func parseTags(form url.Values, field string) ([]tag, error) {
	var tags []tag
	for _, m := range wire.Structs(form, field) {
		t := tag{Key: m.Get("Key"), Value: m.Get("Value")}
		if err := checkTag(t); err != nil {
			return nil, err
		}
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		return nil, validationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", param(field), maxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		k := strings.ToLower(t.Key)
		if seen[k] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	return tags, nil
}

// requiredTags reads the Tags of TagRole and TagInstanceProfile, which need
// at least one.
func requiredTags(form url.Values) ([]tag, error) {
	tags, err := parseTags(form, "Tags")
	if err == nil && len(tags) == 0 {
		err = validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	return tags, err
}

// untagKeys reads UntagRole's TagKeys and checks them as the API model
// does (required, at most 50, each a tag key), before the role is looked
// up, as IAM validates a request before it reads any entity.
func untagKeys(form url.Values) ([]string, error) {
	keys := wire.List(form, "TagKeys")
	if _, empty := form["TagKeys"]; len(keys) == 0 && !empty {
		return nil, validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	if len(keys) > maxTags {
		return nil, validationError("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to %d", maxTags)
	}
	for _, k := range keys {
		if len([]rune(k)) < 1 || len([]rune(k)) > 128 || !tagPattern.MatchString(k) {
			return nil, validationError("1 validation error detected: Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+]")
		}
	}
	return keys, nil
}

func checkTag(t tag) error {
	if err := checkLength("Key", t.Key, 1, 128); err != nil {
		return err
	}
	if err := checkLength("Value", t.Value, 0, 256); err != nil {
		return err
	}
	if !tagPattern.MatchString(t.Key) || !tagPattern.MatchString(t.Value) {
		return validationError("1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*")
	}
	if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
		return invalidInput("User is not authorized to perform tag operations with the aws: prefix.")
	}
	return nil
}

// mergeTags applies add on top of existing (keys compared ignoring case, a
// new value replaces the old) and enforces the 50-tag limit on the result.
// The result is sorted by key so that responses are deterministic.
func mergeTags(existing, add []tag) ([]tag, error) {
	out := append([]tag(nil), existing...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, t.Key) {
				out[i] = t
				replaced = true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	sortTags(out)
	return out, nil
}

func removeTags(existing []tag, keys []string) []tag {
	var out []tag
	for _, t := range existing {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

func sortTags(tags []tag) {
	slices.SortFunc(tags, func(a, b tag) int {
		return strings.Compare(strings.ToLower(a.Key), strings.ToLower(b.Key))
	})
}

// documentKind selects the structural rules IAM applies beyond JSON syntax.
type documentKind int

const (
	identityPolicy documentKind = iota // inline and managed policies, boundaries
	trustPolicy                        // a role's AssumeRolePolicyDocument
)

// parseDocument reads a policy document parameter and validates it with
// the sandbox's own IAM rules (grammar.go): the API model's length and
// characters, then the policy grammar for where the document is used. The
// document text is never echoed in errors. Only a valid document is
// parsed for the evaluator; that policy.Parse refuses one IAM accepts is
// the sandbox's failure (a 500), never the caller's.
func parseDocument(form url.Values, field string, kind documentKind) (string, *policy.Document, error) {
	text, err := required(form, field)
	if err != nil {
		return "", nil, err
	}
	if err := checkLength(field, text, 1, maxDocumentLength); err != nil {
		return "", nil, err
	}
	if !policyChars(text) {
		return "", nil, validationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+", param(field))
	}
	if err := checkDocument(text, kind); err != nil {
		return "", nil, err
	}
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return "", nil, wire.NewError(http.StatusInternalServerError, "ServiceFailure", "the sandbox's policy evaluator cannot read a document IAM accepts")
	}
	return text, doc, nil
}

// policyARN reads a PolicyArn-like parameter (model length 20–2048).
func policyARN(form url.Values, field string) (string, error) {
	v, err := required(form, field)
	if err != nil {
		return "", err
	}
	return v, checkLength(field, v, 20, 2048)
}
