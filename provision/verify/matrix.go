package verify

import (
	"github.com/secretboot/secretboot/policy"
	"sort"
	"strings"
)

// The actions every role is checked for on every secret.
const (
	GetSecretValue = "secretsmanager:GetSecretValue"
	DescribeSecret = "secretsmanager:DescribeSecret"
	PutSecretValue = "secretsmanager:PutSecretValue"
	DeleteSecret   = "secretsmanager:DeleteSecret"
)

// KMSDecrypt is checked, for every role, on each secret encrypted with a
// customer managed key: kms:Decrypt on that key in the context Secrets
// Manager sends when it decrypts that secret (see DecryptContext). Reading
// such a secret needs it as well as GetSecretValue.
const KMSDecrypt = "kms:Decrypt"

// Actions lists the actions checked on every secret in the order matrices
// show them: the two read actions a reader may have, then the two it must
// never have.
var Actions = []string{GetSecretValue, DescribeSecret, PutSecretValue, DeleteSecret}

// ActionsFor lists the actions a matrix over secrets shows: Actions, and
// KMSDecrypt last when some secret has a customer managed key. A stage
// without one keeps the four columns it always had.
func ActionsFor(secrets []Secret) []string {
	for _, s := range secrets {
		if s.KMSKeyARN != "" {
			return actionsOn(s)
		}
	}
	return Actions
}

// DecryptContext is the request context of the kms:Decrypt call Secrets
// Manager makes to read the secret at secretARN: the secret's ARN as
// encryption context, and Secrets Manager of the secret's region as the
// calling service, spelled as policy's read policy expects it.
func DecryptContext(secretARN string) map[string][]string {
	region := ""
	if parts := strings.SplitN(secretARN, ":", 5); len(parts) == 5 {
		region = parts[3]
	}
	return map[string][]string{
		encryptionContextKey: {secretARN},
		viaServiceKey:        {"secretsmanager." + region + ".amazonaws.com"},
	}
}

const (
	encryptionContextKey = "kms:EncryptionContext:SecretARN"
	viaServiceKey        = "kms:ViaService"
)

// Role is a role whose access is checked.
type Role struct {
	Key      string `json:"key"`  // label in the spec
	Name     string `json:"name"` // IAM role name
	ARN      string `json:"arn,omitempty"`
	External bool   `json:"external,omitempty"`
	// CrossAccount marks an external role in another account
	// (spec.Desired.CrossAccountRoles): only this account's side of its
	// access, the secrets' resource policies, can be decided here.
	CrossAccount bool `json:"cross_account,omitempty"`
	// Unlisted marks a role under the stage's path that the spec does not
	// name (see Unlisted); its key is its path and name.
	Unlisted bool `json:"unlisted,omitempty"`
	Exists   bool `json:"exists"`
	// Boundary names the stage's permissions boundary on a managed role:
	// its statements bound and never grant, so they are no source.
	Boundary string `json:"-"`
}

// Secret is a secret whose readers are checked.
type Secret struct {
	Key    string `json:"key,omitempty"` // label in the spec; "" for the stage key secret
	Name   string `json:"name"`
	ARN    string `json:"arn,omitempty"` // exact, or the pending "<name>-??????" pattern
	Exists bool   `json:"exists"`
	// KMSKeyARN is the customer managed key the spec encrypts the secret
	// with; "" for the AWS managed key, which needs no grant and gets no
	// KMSDecrypt cell.
	KMSKeyARN string `json:"kms_key_arn,omitempty"`
	// Owner holds the stage's ownership tags, which the secret carries
	// and which conditions (the stage boundary's on rotation writes) read
	// as aws:ResourceTag; the simulator does not read them from the
	// secret, so Online passes them as context.
	Owner map[string]string `json:"-"`
	// Resource is the secret's resource policy as the stage resolves it
	// (provision.SecretRef.Resource; plan keeps it in place), nil without
	// one: it decides together with each role's policies, the readers
	// exempt from its deny and everyone else locked out.
	Resource *policy.Document `json:"-"`
	// CrossAccountReaders are the secret's readers in other accounts
	// (spec.Secret.CrossAccountReaders, as roles with CrossAccount set).
	CrossAccountReaders []Role `json:"-"`
}

// Cell is one decision: may Role perform Action on Secret?
type Cell struct {
	Role    string `json:"role"`   // role key
	Secret  string `json:"secret"` // secret name
	Action  string `json:"action"`
	Allowed bool   `json:"allowed"`
	// Decision is IAM's spelling (allowed, implicitDeny, explicitDeny); ""
	// in the expected matrix, which states intent only.
	Decision string `json:"decision,omitempty"`
	// Sources name the policies whose statements decided the cell, when
	// the decision came with them (online: the policy names IAM reports).
	Sources []string `json:"sources,omitempty"`
}

// Matrix is a set of decisions over roles × secrets × actions: Actions on
// every secret, and KMSDecrypt on those with a customer managed key. Cells
// are sorted by role key, secret name and the order of ActionsFor; a role or
// secret that could not be checked (it does not exist) has no cells.
type Matrix struct {
	Roles   []Role   `json:"roles"`
	Secrets []Secret `json:"secrets"`
	Cells   []Cell   `json:"cells"`
}

// Lookup returns the cell for a role key, secret name and action.
func (m *Matrix) Lookup(role, secret, action string) (Cell, bool) {
	i := sort.Search(len(m.Cells), func(i int) bool { return !cellLess(m.Cells[i], Cell{Role: role, Secret: secret, Action: action}) })
	if i < len(m.Cells) && m.Cells[i].Role == role && m.Cells[i].Secret == secret && m.Cells[i].Action == action {
		return m.Cells[i], true
	}
	return Cell{}, false
}

func actionIndex(a string) int {
	for i, x := range Actions {
		if x == a {
			return i
		}
	}
	if a == KMSDecrypt {
		return len(Actions)
	}
	return len(Actions) + 1
}

func cellLess(a, b Cell) bool {
	if a.Role != b.Role {
		return a.Role < b.Role
	}
	if a.Secret != b.Secret {
		return a.Secret < b.Secret
	}
	return actionIndex(a.Action) < actionIndex(b.Action)
}

func (m *Matrix) sort() {
	sort.Slice(m.Roles, func(i, j int) bool { return m.Roles[i].Key < m.Roles[j].Key })
	sort.Slice(m.Secrets, func(i, j int) bool { return m.Secrets[i].Name < m.Secrets[j].Name })
	sort.Slice(m.Cells, func(i, j int) bool { return cellLess(m.Cells[i], m.Cells[j]) })
}
