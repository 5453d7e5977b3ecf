package spec

// Who keeps a secret's value once secretboot has written it (the
// value_owner attribute). A rotator configured outside the spec replaces
// the value on its schedule; restoring the declaration would undo every
// rotation.
const (
	// ValueOwnerSecretboot: the value is restored to the declaration
	// whatever replaced it, a rotator included.
	ValueOwnerSecretboot = "secretboot"
	// ValueOwnerRotation: secretboot writes the first value and leaves
	// every later one to the rotator.
	ValueOwnerRotation = "rotation"
)

// decodeValueOwner reads value_owner: a constant keyword, as it decides
// what plan compares.
func (d *decoder) decodeValueOwner(s *SecretConfig) {
	attr, ok := s.attrs["value_owner"]
	if !ok {
		return
	}
	v, ok := d.constString(attr)
	if !ok {
		return
	}
	if v != ValueOwnerSecretboot && v != ValueOwnerRotation {
		d.errorf(attr.Expr.Range(), "Invalid value owner",
			"value_owner is %q (secretboot restores the declared value, even over a rotation configured outside the spec) or %q (secretboot writes the first value and leaves the rest to the rotator).", ValueOwnerSecretboot, ValueOwnerRotation)
		return
	}
	s.ValueOwner = v
}
