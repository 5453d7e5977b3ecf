package spec

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/templates"
)

// AWS limits checked before any call; AWS-FACTS.md lists the sources.
const (
	maxSecretName         = 512
	maxRoleName           = 64
	maxInstanceProfile    = 128
	maxPayload            = 65536
	maxSecretDescription  = 2048
	maxRoleDescription    = 1000
	maxTagKey             = 128
	maxTagValue           = 256
	maxUserTags           = 46 // AWS allows 50; secretboot adds project, stage, generation and recovery window
	minRecoveryWindowDays = 7
	maxRecoveryWindowDays = 30
	maxGeneratorLength    = 4096
)

var (
	secretNameRe = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)
	// suffixTrapRe matches names Secrets Manager advises against: a partial
	// ARN ends in "-" and six random characters, so such a name can be
	// mistaken for a partial ARN of another secret.
	suffixTrapRe = regexp.MustCompile(`-[^-]{6}$`)
	iamNameRe    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	serviceRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.amazonaws\.com(\.cn)?$`)
	kmsKeyARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):([0-9]{12}):key/[A-Za-z0-9-]+$`)
	policyARNRe  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/(?:[\x21-\x7e]*/)?[\w+=,.@-]{1,128}$`)
	tagRe        = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

	// credentialRe matches object keys and secret names that suggest a
	// credential; such a payload must not be a literal in the spec.
	credentialRe = regexp.MustCompile(`(?i)(passw(or)?d|passphrase|pwd|secret|token|key|credential|private|auth|api_?key|cert)`)
)

func errDiag(subject hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject.Ptr(),
	}
}

func warnDiag(subject hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	d := errDiag(subject, summary, format, args...)
	d.Severity = hcl.DiagWarning
	return d
}

// checkSecretName applies the Secrets Manager name rules to a full name.
func checkSecretName(name string, subject hcl.Range) hcl.Diagnostics {
	switch {
	case len(name) == 0 || len(name) > maxSecretName:
		return hcl.Diagnostics{errDiag(subject, "Invalid secret name",
			"The full secret name %q has %d characters; Secrets Manager allows 1–%d.", name, len(name), maxSecretName)}
	case !secretNameRe.MatchString(name):
		return hcl.Diagnostics{errDiag(subject, "Invalid secret name",
			"The full secret name %q may hold only letters, digits and /_+=.@- .", name)}
	case suffixTrapRe.MatchString(name):
		return hcl.Diagnostics{errDiag(subject, "Secret name ends like an ARN suffix",
			"%q ends with a hyphen and six characters, which Secrets Manager confuses with the random suffix of a partial ARN. Rename it.", name)}
	}
	return nil
}

// checkRoleName applies the IAM rules to a role name, which is also the name
// of its instance profile.
func checkRoleName(name string, profile bool, subject hcl.Range) hcl.Diagnostics {
	switch {
	case !iamNameRe.MatchString(name):
		return hcl.Diagnostics{errDiag(subject, "Invalid role name",
			"The IAM role name %q may hold only letters, digits and _+=,.@- .", name)}
	case len(name) > maxRoleName:
		return hcl.Diagnostics{errDiag(subject, "Role name too long",
			"The IAM role name %q has %d characters; IAM allows %d. Shorten the label or the stage's role_prefix.", name, len(name), maxRoleName)}
	case profile && len(name) > maxInstanceProfile:
		return hcl.Diagnostics{errDiag(subject, "Instance profile name too long",
			"The instance profile name %q has %d characters; IAM allows %d.", name, len(name), maxInstanceProfile)}
	}
	return nil
}

// checkTags applies the tag rules shared by Secrets Manager and IAM.
func checkTags(tags map[string]string, subject hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(tags) > maxUserTags {
		diags = append(diags, errDiag(subject, "Too many tags",
			"%d tags given; at most %d are allowed because secretboot adds up to four of its own to AWS's limit of 50.", len(tags), maxUserTags))
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := tags[k]
		lower := strings.ToLower(k)
		switch {
		case len(k) == 0 || len(k) > maxTagKey:
			diags = append(diags, errDiag(subject, "Invalid tag key", "Tag key %q has %d characters; AWS allows 1–%d.", k, len(k), maxTagKey))
		case strings.HasPrefix(lower, "aws:") || strings.HasPrefix(lower, "secretboot:"):
			diags = append(diags, errDiag(subject, "Reserved tag key", "Tag key %q uses a reserved prefix (aws: or secretboot:).", k))
		case !tagRe.MatchString(k):
			diags = append(diags, errDiag(subject, "Invalid tag key", "Tag key %q may hold only letters, digits, spaces and _.:/=+-@ .", k))
		case len(v) > maxTagValue:
			diags = append(diags, errDiag(subject, "Invalid tag value", "The value of tag %q has %d characters; AWS allows %d.", k, len(v), maxTagValue))
		case !tagRe.MatchString(v):
			diags = append(diags, errDiag(subject, "Invalid tag value", "The value of tag %q may hold only letters, digits, spaces and _.:/=+-@ .", k))
		}
	}
	return diags
}

// reservedSecretSuffix ends the name of the secret holding a stage's key
// (provision.StageKeyName): no declared secret may take it.
const reservedSecretSuffix = ".secretboot/stage-key"

// validateConfig checks what needs the whole spec, not one stage: name
// prefixes that overlap between stages of one account (a stage would
// observe, and delete, the other's secrets), labels that take the name
// reserved for the stage key, and trust services without a template (plan
// would fail on them).
func (d *decoder) validateConfig() {
	stages := d.c.StageConfigs
	for i, a := range stages {
		// The account a stage is pinned to, by account_id or by
		// assume_role_arn's. A stage that pins none may be in any account,
		// the other's included (its credentials decide), so it is held to
		// the rule against every stage.
		accountA := a.account()
		for _, b := range stages[i+1:] {
			accountB := b.account()
			if accountA != "" && accountB != "" && accountA != accountB {
				continue
			}
			if strings.HasPrefix(a.NamePrefix, b.NamePrefix) || strings.HasPrefix(b.NamePrefix, a.NamePrefix) {
				var in string
				switch {
				case accountA == accountB && accountA != "":
					in = "account " + accountA
				case accountA == accountB:
					in = "the same account (neither pins an account)"
				default:
					in = "the same account if their credentials say so (one pins no account)"
				}
				d.errorf(b.DeclRange, "Overlapping name prefixes",
					"Stages %q (name_prefix %q) and %q (name_prefix %q) are in %s and one prefix starts the other: each stage owns every secret under its prefix, so one would see, rewrite or delete the other's secrets. Give them prefixes that do not start one another, such as \"%s/\" and \"%s/\".",
					a.Name, a.NamePrefix, b.Name, b.NamePrefix, in, a.Name, b.Name)
			}
		}
	}
	for _, s := range d.c.Secrets {
		if strings.HasSuffix(s.Name, reservedSecretSuffix) {
			d.errorf(s.DeclRange, "Reserved secret label",
				"Secret labels ending in %q are reserved: secretboot keeps each stage's key in the secret <name_prefix>%s.", reservedSecretSuffix, reservedSecretSuffix)
		}
	}
	for _, r := range d.c.Roles {
		attr, ok := r.attrs["service"]
		if !ok {
			continue
		}
		elems, diags := hcl.ExprList(attr.Expr)
		if diags.HasErrors() {
			continue // not a literal list: evaluated per stage, and checked there
		}
		for _, e := range elems {
			v, diags := evalExpr(e, d.ctx, false)
			if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !v.Type().Equals(cty.String) {
				continue
			}
			svc := v.AsString()
			if !serviceRe.MatchString(svc) {
				continue // reported per stage as invalid
			}
			if svc == policy.PodIdentityService {
				d.errorf(e.Range(), "No trust template for service",
					"EKS Pod Identity needs sts:TagSession and conditions on the pod's session tags: use a pod_identity block instead of service.")
			} else if _, err := fs.Stat(templates.FS, "trust/"+svc+".json"); err != nil {
				d.errorf(e.Range(), "No trust template for service",
					"secretboot writes trust policies from templates, and has none for %q (it has: %s); plan would fail on this role. Use one of those services, or an external role.", svc, strings.Join(trustServices(), ", "))
			}
		}
	}
}

// trustServices lists the services secretboot has trust templates for.
func trustServices() []string {
	entries, _ := fs.ReadDir(templates.FS, "trust")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".json"))
	}
	sort.Strings(out)
	return out
}

// StagePath is the IAM path of a stage's roles and policies.
func StagePath(project, stage string) string { return "/secretboot/" + project + "/" + stage + "/" }

// BoundaryName is the name of a stage's permissions boundary policy:
// managed policy names are unique per account, whatever the path.
func BoundaryName(project, stage string) string {
	return "secretboot-" + project + "-" + stage + "-boundary"
}

// checkRoleBoundary refuses a managed role's permissions_boundary that is
// not the stage's boundary (docs/security.md): a role has one boundary, and
// every managed role carries the stage's. Without account_id the account
// is left to plan, which knows it.
func checkRoleBoundary(arn, project string, st *StageConfig, subject hcl.Range) hcl.Diagnostics {
	suffix := ":policy" + StagePath(project, st.Name) + BoundaryName(project, st.Name)
	account := st.AccountID
	if account == "" {
		account = "<account>"
	}
	if strings.HasSuffix(arn, suffix) && (st.AccountID == "" || strings.HasSuffix(arn, ":iam::"+st.AccountID+suffix)) {
		return nil
	}
	return hcl.Diagnostics{errDiag(subject, "Not the stage's permissions boundary",
		"Every role of stage %s carries the stage's permissions boundary arn:aws:iam::%s%s; remove permissions_boundary or set it to that ARN.",
		st.Name, account, suffix)}
}
