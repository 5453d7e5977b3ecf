package provision

import (
	"fmt"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// RoleDocuments is what secretboot intends one role of a stage to hold: the
// documents reviewers read (`secretboot policy`) and that `verify --offline`
// evaluates.
type RoleDocuments struct {
	Key      string // the role's label in the spec
	Name     string // IAM role name
	ARN      string // exact for an existing or external role; for a managed role not created yet, the ARN it will get
	External bool   // owned elsewhere: only the read policy is secretboot's
	Exists   bool   // the role exists (always false without an observation)

	// PolicyName is the name of secretboot's inline policy on the role.
	PolicyName string
	// Read is the role's read policy, nil when the role reads nothing.
	// Secrets not created yet appear as "<name>-??????" patterns.
	Read *policy.Document
	// Pending lists, sorted, the secret names whose ARN in Read is a pending
	// pattern: the exact ARN is known after apply.
	Pending []string
	// Layout is where Read goes: inline, or split into managed policies
	// when it exceeds the inline room (OtherInline). Zero when Read is nil.
	Layout policy.Layout
	// OtherInline is the size of the role's other inline policies (those
	// of an external role's owner), which IAM's inline limit covers
	// together with Read; 0 without an observation.
	OtherInline int
	// PartNames name the customer managed policies of a split read policy,
	// one per Layout.Managed document, in order; nil when it is inline.
	PartNames []string

	// Trust is the trust policy of a managed role; nil for external roles,
	// whose trust secretboot does not own.
	Trust *policy.Document
}

// SecretRef names one secret a stage's roles are judged against.
type SecretRef struct {
	Key    string // label in the spec; "" for the stage key secret
	Name   string // full secret name
	ARN    string // exact when the secret exists, otherwise the pending "<name>-??????" pattern
	Exists bool
}

// RoleDocumentsOf computes the documents of every role of d, sorted by Key,
// with the same synthesis the engine uses for plans and apply. With an
// observation o, secrets secretboot owns get their exact ARNs; o may be nil
// (offline), in which case every secret is pending and the account is
// d.AccountID. A read policy that cannot fit the role's quotas even when
// split is an error naming the role.
func RoleDocumentsOf(d *spec.Desired, o *Observed) ([]RoleDocuments, error) {
	region, account, arns := target(d, o)
	out := make([]RoleDocuments, 0, len(d.Roles))
	for _, r := range d.Roles {
		rd := RoleDocuments{Key: r.Key, Name: r.Name, External: !r.Managed(), PolicyName: readPolicyName(d, r)}
		switch {
		case !r.Managed():
			rd.ARN = r.External
			rd.Name = roleNameFromARN(r.External)
			rd.Exists = o != nil && o.External[r.Key] != nil
		case o != nil && o.Roles[r.Name] != nil:
			rd.ARN = o.Roles[r.Name].ARN
			rd.Exists = true
		default:
			rd.ARN = "arn:" + partition(region) + ":iam::" + account + ":role" + RolePath(d) + r.Name
		}
		rd.Read, rd.Pending = readPolicy(d, region, account, arns, r)
		if rd.Read != nil {
			// Placed as plan places it, within the role's inline room and
			// the account's quota; the slots other attachments take are
			// plan's to check.
			var live *ObservedRole
			quota := policy.DefaultLimits.MaxAttachments
			if o != nil {
				live, quota = o.role(r), o.attachmentQuota()
			}
			if live != nil {
				rd.OtherInline = live.ForeignInline
			}
			layout, err := policy.Fit(rd.Read, readPolicyLimits(live, quota))
			if err != nil {
				return nil, fmt.Errorf("the read policy of role %s cannot fit its quotas: %w", rd.Name, err)
			}
			rd.Layout = layout
			for i := range layout.Managed {
				rd.PartNames = append(rd.PartNames, ReadPolicyPartName(d, r, i+1))
			}
		}
		if r.Managed() {
			trust, err := trustPolicy(r)
			if err != nil {
				return nil, err
			}
			rd.Trust = trust
		}
		out = append(out, rd)
	}
	return out, nil
}

// SecretRefs lists the secrets of d, sorted by name, followed by the stage
// key secret (which no role may read), with exact ARNs for those o shows
// secretboot owns. o may be nil (offline).
func SecretRefs(d *spec.Desired, o *Observed) []SecretRef {
	region, account, arns := target(d, o)
	ref := func(key, name string, arn string, ok bool) SecretRef {
		if !ok {
			arn = pendingARN(region, account, name)
		}
		return SecretRef{Key: key, Name: name, ARN: arn, Exists: ok}
	}
	out := make([]SecretRef, 0, len(d.Secrets)+1)
	for _, s := range d.Secrets {
		arn, ok := arns[s.Name]
		out = append(out, ref(s.Key, s.Name, arn, ok))
	}
	var keyARN string
	keyOwned := o != nil && o.StageKey != nil && ownedBy(o.StageKey.Tags, d)
	if keyOwned {
		keyARN = o.StageKey.ARN
	}
	return append(out, ref("", StageKeyName(d), keyARN, keyOwned))
}

// target is the region, account and exact secret ARNs documents are built
// for: the observed ones, or the stage's declared ones offline.
func target(d *spec.Desired, o *Observed) (region, account string, arns map[string]string) {
	if o == nil {
		return d.Region, d.AccountID, map[string]string{}
	}
	// The same ARNs plan and apply put in policies.
	return o.Region, o.Account, (&differ{d: d, o: o}).arns()
}
