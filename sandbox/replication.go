package sandbox

// FailReplica marks the replica in region of the secret id (name or ARN of
// the primary or of the replica) Failed, as when the replica's KMS key is
// disabled: DescribeSecret's ReplicationStatus shows it Failed with a
// message, and the replica keeps its present state, no longer replicated
// to, until RemoveRegionsFromReplication deletes it. A test hook.
func (s *Server) FailReplica(region, id string) error {
	if err := s.sm.FailReplica(region, id); err != nil {
		return err
	}
	if s.persist != nil {
		s.persist.changed()
	}
	return nil
}
