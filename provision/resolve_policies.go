package provision

import (
	"errors"
	"fmt"
	"strings"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/spec"
)

// readPolicy builds a role's read policy from the secrets that name it as a
// reader (on each copy it reads: the primary and every replica, or those
// in the role's regions; replicaGrants), and as their rotator (policy.RotationPolicy's statements, in the
// same document: it is the one policy secretboot keeps on the role, placed,
// reviewed and verified as a whole). arns maps secret names to their exact
// ARNs; a secret without one gets the pending pattern and is listed in
// pending. The document is nil when the role reads and rotates nothing.
func readPolicy(d *spec.Desired, region, account string, arns map[string]string, role *spec.Role) (doc *policy.Document, pending []string) {
	return readPolicyOf(region, account, arns, role, d.Secrets)
}

// readPolicyOf is readPolicy over secrets, which hold at least those that
// name the role (roleSecrets): Resolve looks at each secret once, not
// once per role.
func readPolicyOf(region, account string, arns map[string]string, role *spec.Role, secrets []*spec.Secret) (doc *policy.Document, pending []string) {
	var grants, rotates []policy.Grant
	for _, s := range secrets {
		rotator := s.Rotation != nil && s.Rotation.Rotator == role.Key
		reader := false
		for _, r := range s.Readers {
			if r.Role == role.Key {
				reader = true
			}
		}
		if !reader && !rotator {
			continue
		}
		arn, ok := arns[s.Name]
		if !ok {
			arn = pendingARN(region, account, s.Name)
			pending = append(pending, s.Name)
		}
		for _, r := range s.Readers {
			if r.Role == role.Key {
				grants = append(grants, replicaGrants(region, arn, s, role, r.Describe)...)
			}
		}
		if rotator {
			rotates = append(rotates, policy.Grant{SecretARN: arn, KMSKeyARN: s.KMSKeyARN})
		}
	}
	read, rotate := policy.ReadPolicy(region, grants), policy.RotationPolicy(region, rotates)
	switch {
	case rotate == nil:
		return read, pending
	case read == nil:
		return rotate, pending
	}
	read.Statement = append(read.Statement, rotate.Statement...)
	return read.Normalized(), pending
}

// trustPolicy lets the role's services assume it.
func trustPolicy(r *spec.Role) (*policy.Document, error) {
	doc, err := policy.TrustPolicyFor(r.Trust())
	if err != nil {
		return nil, fmt.Errorf("role %s: %w", r.Name, err)
	}
	return doc, nil
}

// maxAttachmentQuota is the highest quota of managed policies per role
// that AWS grants on request (AWS-FACTS §4).
const maxAttachmentQuota = 20

// readPolicyLimits are the limits a role's read policy is placed within:
// the inline characters the role's other inline policies leave
// (ObservedRole.ForeignInline; live is nil for a role not created yet) and
// the account's quota of managed policies per role.
func readPolicyLimits(live *ObservedRole, quota int) policy.Limits {
	limits := policy.DefaultLimits
	limits.MaxAttachments = quota
	if live != nil {
		// Fit reads a zero InlineMax as the default; no document is one
		// character long, so 1 leaves no room.
		limits.InlineMax = max(limits.InlineRoom(live.ForeignInline), 1)
	}
	return limits
}

// placement is where a role's read policy goes (policy.Fit): inline when
// it fits the room the role's other inline policies leave, else in managed
// parts within the attachment slots that the role's foreign attachments
// leave of the account's quota (Observed.AttachmentQuota). Plan and apply
// both read it, so a policy that cannot be put or attached is refused
// before anything is written, not by PutRolePolicy or AttachRolePolicy
// half-way through an apply. Fit's packing depends on neither the inline
// room nor the number of slots, so only the choice of layout and the
// refusal depend on the role.
type placement struct {
	fit    policy.Layout // Fit's layout within the account's quota, as reviewers see it
	fitErr error         // Fit's refusal: the policy cannot fit even split
	// parts is the number of managed parts the policy is split into, also
	// when that is more than the quota allows; 0 when it stays inline, or
	// when one of its statements alone is too large for a managed policy,
	// which is refused whatever the slots hold.
	parts  int
	layout policy.Layout // where plan and apply put it: fit, when err is nil
	err    error         // fitErr, or a SlotsError when the free slots are too few
}

// placeReadPolicy places doc on the role live (nil for a role not created
// yet) as observed by o (nil offline: IAM's default quota, no foreign
// attachments).
func placeReadPolicy(doc *policy.Document, live *ObservedRole, o *Observed) placement {
	quota, denied := policy.DefaultLimits.MaxAttachments, false
	if o != nil {
		quota, denied = o.attachmentQuota(), o.AttachmentQuotaDenied
	}
	limits := readPolicyLimits(live, quota)
	var p placement
	p.fit, p.fitErr = policy.Fit(doc, limits)
	p.parts = len(p.fit.Managed)
	var tooLarge *policy.TooLargeError
	if errors.As(p.fitErr, &tooLarge) {
		p.parts = tooLarge.Documents
	}
	if tooLarge == nil || tooLarge.Documents == 0 {
		if p.fitErr != nil || p.fit.Inline != nil {
			p.layout, p.err = p.fit, p.fitErr
			return p
		}
	} // else more parts than the quota: refused below, naming the slots
	var foreign int
	if live != nil {
		foreign = live.Foreign
	}
	limits.MaxAttachments = max(quota-foreign, 0)
	if p.parts <= limits.MaxAttachments {
		p.layout = p.fit
		return p
	}
	p.err = &SlotsError{
		Foreign: foreign, Quota: quota, QuotaDenied: denied,
		Err: &policy.TooLargeError{
			Needed: policy.Size(doc), Available: limits.MaxAttachments * limits.ManagedMax,
			Documents: p.parts, Limits: limits,
		},
	}
	return p
}

// SlotsError reports a split read policy that needs more managed policies
// than the role has attachment slots left: the account's quota of managed
// policies per role, less the other managed policies attached to it. Err
// says what the split needs within the free slots.
type SlotsError struct {
	Foreign int // managed policies attached to the role that are not its parts
	// Quota is the account's quota of managed policies per role the split
	// was counted against: read with GetAccountSummary, or IAM's default.
	Quota int
	// QuotaDenied says GetAccountSummary was denied, so Quota is IAM's
	// default, whatever the account's real quota is.
	QuotaDenied bool
	Err         *policy.TooLargeError
}

func (e *SlotsError) Error() string {
	var b strings.Builder
	if e.Foreign > 0 {
		fmt.Fprintf(&b, "%v: %d other managed policies are attached to the role and leave %d of its %d attachment slots; "+
			"detach some of them, or split the role's secrets across roles", e.Err, e.Foreign, e.Err.Limits.MaxAttachments, e.Quota)
	} else {
		fmt.Fprintf(&b, "%v: the role has %d attachment slots; split the role's secrets across roles", e.Err, e.Quota)
	}
	switch {
	case e.QuotaDenied:
		fmt.Fprintf(&b, ". The account's quota of managed policies per role could not be read (iam:GetAccountSummary was denied), "+
			"so secretboot counted IAM's default of %d; allow the caller iam:GetAccountSummary to plan with a raised quota (AWS raises it up to %d)",
			e.Quota, maxAttachmentQuota)
	case e.Quota < maxAttachmentQuota:
		fmt.Fprintf(&b, ", or raise the account's quota of managed policies per role from %d (AWS allows up to %d)", e.Quota, maxAttachmentQuota)
	}
	return b.String()
}

func (e *SlotsError) Unwrap() error { return e.Err }

// roleSecrets maps each role key to the secrets, in spec order, that name
// it as a reader or as their rotator.
func roleSecrets(d *spec.Desired) map[string][]*spec.Secret {
	out := map[string][]*spec.Secret{}
	for _, s := range d.Secrets {
		named := map[string]bool{}
		for _, r := range s.Readers {
			named[r.Role] = true
		}
		if s.Rotation != nil {
			named[s.Rotation.Rotator] = true
		}
		for key := range named {
			out[key] = append(out[key], s)
		}
	}
	return out
}
