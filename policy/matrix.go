package policy

// Access is one cell of an access matrix: what Evaluate decides for a role
// performing an action on a secret.
type Access struct {
	Role, Secret, Action string
	Decision             Decision
}

// Matrix evaluates every role × secret × action offline, with the role ARN
// as the caller, and returns the cells sorted by role, secret and action
// (the loops run in that order). It is what `verify --offline` compares with the spec.
func Matrix(roles map[string]PolicySet, secrets []string, actions []string) []Access {
	secrets = StringList(secrets).normalized()
	actions = StringList(actions).normalized()
	out := make([]Access, 0, len(roles)*len(secrets)*len(actions))
	for _, role := range sortedKeys(roles) {
		for _, secret := range secrets {
			for _, action := range actions {
				r := Evaluate(roles[role], Request{Principal: role, Action: action, Resource: secret})
				out = append(out, Access{Role: role, Secret: secret, Action: action, Decision: r.Decision})
			}
		}
	}
	return out
}
