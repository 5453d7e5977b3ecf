package provision

import (
	"strconv"
	"strings"

	"github.com/secretboot/secretboot/spec"
)

// Tags that mark what secretboot owns. Roles and instance profiles are also
// owned by their path (rolePath).
const (
	TagProject    = "secretboot:project"
	TagStage      = "secretboot:stage"
	TagGeneration = "secretboot:generation" // generation counter, bumped by --regenerate
	TagStageKey   = "secretboot:stage-key"  // marks the stage key secret

	// ReadPolicyName is the inline policy secretboot puts on a managed role.
	ReadPolicyName = "secretboot-read"

	// TagExternalPrefix starts the stage key tags that record the external
	// roles holding the stage's read policy: the key is the prefix and the
	// role name, the value the role's ARN. External roles are not under the
	// stage's path, so without the record a role dropped from the spec
	// would keep its grants: nothing else leads back to it.
	TagExternalPrefix = "secretboot:external:"
)

// MaxExternalRoles is how many external roles a stage may name: a secret
// holds at most 50 tags, the stage key uses 3 for ownership, and 2 stay
// spare so that a role can be recorded before another's record goes.
const MaxExternalRoles = 45

// Role names may hold ',', which Secrets Manager tags refuse; a space is
// allowed in tags and never in role names, so it stands for ',' in both
// the key and the ARN without ambiguity.
var (
	toTag   = strings.NewReplacer(",", " ")
	fromTag = strings.NewReplacer(" ", ",")
)

// externalTag is the stage key tag recording an external role.
func externalTag(roleName, arn string) (key, value string) {
	return TagExternalPrefix + toTag.Replace(roleName), toTag.Replace(arn)
}

// recordedExternal reads the external role records from the stage key's
// tags: role name → ARN.
func recordedExternal(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if name, ok := strings.CutPrefix(k, TagExternalPrefix); ok && name != "" {
			out[fromTag.Replace(name)] = fromTag.Replace(v)
		}
	}
	return out
}

// stageKeySuffix is appended to the stage's name prefix to name the secret
// that holds the stage key; a leading dot keeps it apart from spec labels.
const stageKeySuffix = ".secretboot/stage-key"

// StageKeyName is the name of the secret holding the stage key.
func StageKeyName(d *spec.Desired) string { return d.NamePrefix + stageKeySuffix }

// RolePath is the IAM path of every role and instance profile secretboot
// creates for a stage.
func RolePath(d *spec.Desired) string { return spec.StagePath(d.Project, d.Stage) }

// readPolicyName names secretboot's inline policy on a role. An external
// role may be shared by several stages and projects, so its policy name
// carries both.
func readPolicyName(d *spec.Desired, r *spec.Role) string {
	if r.Managed() {
		return ReadPolicyName
	}
	return externalPolicyName(d)
}

// externalPolicyName is the inline read policy on the stage's external
// roles.
func externalPolicyName(d *spec.Desired) string {
	return "secretboot-" + d.Project + "-" + d.Stage + "-read"
}

func ownerTags(d *spec.Desired) map[string]string {
	return map[string]string{TagProject: d.Project, TagStage: d.Stage}
}

func ownedBy(tags map[string]string, d *spec.Desired) bool {
	return tags[TagProject] == d.Project && tags[TagStage] == d.Stage
}

// A read policy over the role's inline limit is split (policy.Fit) into
// customer managed policies "<role>-read-<n>", n from 1, under the stage's
// path, attached to the role; the inline policy is then deleted. Policy
// names are unique per account, so an external role's parts also carry the
// project and stage: "<role>-<project>-<stage>-read-<n>".
const partSuffix = "-read"

// partBase is a role's part name without "-<n>".
func partBase(d *spec.Desired, roleName string, external bool) string {
	if external {
		return roleName + "-" + d.Project + "-" + d.Stage + partSuffix
	}
	return roleName + partSuffix
}

// ReadPolicyPartName names the n-th (from 1) customer managed policy that
// holds part of role r's read policy when it is split.
func ReadPolicyPartName(d *spec.Desired, r *spec.Role, n int) string {
	if r.Managed() {
		return partBase(d, r.Name, false) + "-" + strconv.Itoa(n)
	}
	return partBase(d, roleNameFromARN(r.External), true) + "-" + strconv.Itoa(n)
}

func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// pendingARN stands for a secret that does not exist yet: "-??????" is
// the six random characters Secrets Manager appends. Plans show it; apply
// writes the exact ARN.
func pendingARN(region, account, name string) string {
	return "arn:" + partition(region) + ":secretsmanager:" + region + ":" + account + ":secret:" + name + "-??????"
}

// TagRecoveryWindow records a secret's declared recovery window on the
// secret itself, so that the plan that schedules its deletion after it
// left the spec still knows it: ListSecrets returns tags at no extra
// cost. It is written only for a window other than AWS's default.
const TagRecoveryWindow = "secretboot:recovery-window-days"

// defaultRecoveryDays is AWS's recovery window when none is given.
const defaultRecoveryDays = 30
