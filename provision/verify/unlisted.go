package verify

import (
	"sort"
	"strings"

	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// Unlisted are the roles under stage d's path that the spec does not name,
// as o observed them: roles at the path that are not the spec's (put there
// by hand, or left by a role the spec dropped until apply deletes it) and
// roles below the path, which only an administrator can have put there
// and which secretboot reports but never touches. Online checks them like
// the spec's roles; the spec grants them nothing, so any access they have
// to the stage's secrets is a difference. Their key is the role's path
// and name ("/secretboot/<project>/<stage>/deeper/x"), which no spec label
// can be, so that it names the role exactly. Nil offline (o is nil).
func Unlisted(d *spec.Desired, o *provision.Observed) []Role {
	if o == nil {
		return nil
	}
	named := map[string]bool{}
	for _, r := range d.Roles {
		if r.Managed() {
			named[r.Name] = true
		}
	}
	path := provision.RolePath(d)
	var out []Role
	for name, r := range o.Roles {
		if !named[name] {
			out = append(out, Role{Key: path + name, Name: name, ARN: r.ARN, Exists: true, Unlisted: true})
		}
	}
	for name, arn := range o.Deeper {
		// The ARN holds the role's path: "arn:…:role/<path><name>".
		key := arn[strings.Index(arn, ":role/")+len(":role"):]
		out = append(out, Role{Key: key, Name: name, ARN: arn, Exists: true, Unlisted: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
