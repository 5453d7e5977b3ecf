package sandbox

// RotateNow has the built-in test rotator rotate the secret id (name or
// ARN) at once, whatever its schedule: a test hook standing for a
// rotation coming due. The secret's rotation must be enabled with the test
// rotator's function (secretsmanager.TestRotatorARN).
func (s *Server) RotateNow(id string) error {
	if err := s.sm.RotateNow(id); err != nil {
		return err
	}
	if s.persist != nil {
		s.persist.changed()
	}
	return nil
}
