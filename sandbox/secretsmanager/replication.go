package secretsmanager

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Replication. A primary secret can have replicas in other served regions
// (CreateSecret's AddReplicaRegions, ReplicateSecretToRegions). A replica
// is a secret of its own in its region's Service: the same name and
// suffix, an ARN in its region, its own KMS key, its own LastAccessedDate,
// and PrimaryRegion set. Secrets Manager copies to it the value versions
// with their staging labels, the description, the tags, the resource
// policy and the rotation metadata; rotation itself runs on the primary
// only. The sandbox replicates synchronously: at the end of every request
// that changed a primary, so a replica is always InSync (never
// InProgress) unless replication failed:
//
//   - a secret of the same name already exists in the replica's region:
//     Failed, and no replica exists; ForceOverwriteReplicaSecret replaces
//     a standalone secret, never another secret's replica nor a primary
//     with replicas;
//   - the replica's KMS key cannot be used (missing, disabled, or KMS
//     refuses the caller that added the replica kms:GenerateDataKey or
//     kms:Encrypt), or KMS refuses that caller kms:Decrypt on the
//     primary's key: Failed, and no replica exists; a key that becomes
//     unusable later fails the next update that succeeds on the primary;
//   - FailReplica, a test hook standing for either.
//
// A Failed replica that exists keeps the state of its last update: it is
// no longer replicated to. RemoveRegionsFromReplication deletes it;
// replicating to its region again needs that first.
//
// A replica takes no writes: every operation but reads and
// StopReplicationToReplica answers InvalidParameterException "Operation
// not permitted on a replica secret…" (moto's code and text; AWS's are not
// recorded). StopReplicationToReplica, called in the replica's region,
// promotes it to a standalone secret. DeleteSecret on a primary with
// replicas is refused until they are removed, as AWS documents.

// Replication statuses (StatusType).
const (
	statusInSync = "InSync"
	statusFailed = "Failed"
)

// replica is one replica of a primary, as the primary keeps it.
type replica struct {
	Region        string
	KmsKeyID      string `json:",omitempty"` // "" is aws/secretsmanager
	Status        string
	StatusMessage string `json:",omitempty"`
}

type replicaRegionJSON struct {
	Region   *string
	KmsKeyId *string
}

// addReplicaRegionsKey puts the regions a request adds replicas in into
// its condition keys as secretsmanager:AddReplicaRegions, which policies
// use to allow replication to some regions only (Secrets Manager user
// guide, "Prevent replication"), and ForceOverwriteReplicaSecret, when the
// request sets it, as secretsmanager:ForceOverwriteReplicaSecret: it lets
// the caller replace a secret of the same name in a replica's region. A
// request that adds none has neither key.
func addReplicaRegionsKey(ctx map[string][]string, rs []replicaRegionJSON, force *bool) {
	if force != nil {
		ctx["secretsmanager:ForceOverwriteReplicaSecret"] = []string{strconv.FormatBool(*force)}
	}
	var regions []string
	for _, r := range rs {
		if r.Region != nil {
			regions = append(regions, *r.Region)
		}
	}
	if len(regions) > 0 {
		ctx["secretsmanager:AddReplicaRegions"] = regions
	}
}

type replicationStatusJSON struct {
	Region           string `json:"Region"`
	KmsKeyId         string `json:"KmsKeyId"`
	Status           string `json:"Status"`
	StatusMessage    string `json:"StatusMessage,omitempty"`
	LastAccessedDate *epoch `json:"LastAccessedDate,omitempty"`
}

// replicatedOut is the replication part of DescribeSecret's and
// ListSecrets' answers: set for a primary with replicas and for a replica.
type replicatedOut struct {
	PrimaryRegion     string                  `json:"PrimaryRegion,omitempty"`
	ReplicationStatus []replicationStatusJSON `json:"ReplicationStatus,omitempty"`
}

// errOnReplica is the answer to a write on a replica (moto's code and
// text).
func errOnReplica() *apiError {
	return invalidParam("Operation not permitted on a replica secret. Call must be made in primary secret's region.")
}

// errNameTaken is the StatusMessage of a replica whose name is taken in its
// region (moto's text).
func errNameTaken(name, region string) string {
	return fmt.Sprintf("Replication failed: Secret name %s already exists in region %s.", name, region)
}

// replicaAllows reports whether an action may act on a replica.
func replicaAllows(action string) bool {
	switch action {
	case "DescribeSecret", "GetSecretValue", "ListSecretVersionIds", "GetResourcePolicy",
		"ValidateResourcePolicy", "StopReplicationToReplica":
		return true
	}
	return false
}

// primaryOf returns a replica's primary, nil for a secret that is not a
// replica.
func (s *Service) primaryOf(sec *secret) *secret {
	if sec.PrimaryRegion == "" {
		return nil
	}
	if r := s.regions[sec.PrimaryRegion]; r != nil {
		return r.byName[sec.Name]
	}
	return nil
}

// replicatedOut describes the replication of sec, primary or replica.
func (s *Service) replicatedOut(sec *secret) replicatedOut {
	primary, region := sec, s.cfg.Region
	if p := s.primaryOf(sec); p != nil {
		primary, region = p, sec.PrimaryRegion
	}
	if len(primary.Replicas) == 0 && primary == sec {
		return replicatedOut{}
	}
	return replicatedOut{PrimaryRegion: region, ReplicationStatus: s.replicationStatus(primary)}
}

// replicationStatus is a primary's ReplicationStatus.
func (s *Service) replicationStatus(primary *secret) []replicationStatusJSON {
	out := make([]replicationStatusJSON, 0, len(primary.Replicas))
	for _, r := range primary.Replicas {
		st := replicationStatusJSON{Region: r.Region, KmsKeyId: r.KmsKeyID, Status: r.Status, StatusMessage: r.StatusMessage}
		if managedKey(st.KmsKeyId) {
			st.KmsKeyId = "alias/aws/secretsmanager"
		}
		if rep := s.replicaIn(primary, r.Region); rep != nil {
			st.LastAccessedDate = at(dayOf(rep.LastAccessed))
		}
		out = append(out, st)
	}
	return out
}

// replicaIn returns the replica of primary in region, nil when there is
// none (its creation failed).
func (s *Service) replicaIn(primary *secret, region string) *secret {
	r := s.regions[region]
	if r == nil {
		return nil
	}
	if rep := r.byName[primary.Name]; rep != nil && rep.PrimaryRegion == arnRegion(primary.ARN) {
		return rep
	}
	return nil
}

// checkReplicaRegions validates AddReplicaRegions for a primary in this
// Service's region with replicas existing already: every region served,
// none twice, none the primary's own or already a replica's.
func (s *Service) checkReplicaRegions(in []replicaRegionJSON, existing []*replica) *apiError {
	if len(in) == 0 {
		return invalidParam("You must provide at least one Region in AddReplicaRegions.")
	}
	seen := map[string]bool{}
	for _, r := range existing {
		seen[r.Region] = true
	}
	for _, r := range in {
		region := deref(r.Region)
		switch {
		case region == "":
			return invalidParam("You must provide a value for the Region parameter.")
		case region == s.cfg.Region:
			return invalidParam("Invalid replica region.")
		case s.regions[region] == nil:
			return invalidParam("Invalid replica region: the sandbox does not serve %s (serve it with -regions).", region)
		case seen[region]:
			return invalidParam("The secret is already replicated to %s, or the Region is listed twice.", region)
		}
		seen[region] = true
	}
	return nil
}

// addReplicas creates replicas of primary after checkReplicaRegions. A
// replica that cannot be created is recorded as Failed.
//
// Creating a replica takes the caller's permissions on two keys (API
// reference, ReplicateSecretToRegions, "Required permissions"):
// kms:Decrypt on the primary's key, to read its versions, and
// kms:GenerateDataKey and kms:Encrypt on the replica's key in its region.
func (s *Service) addReplicas(primary *secret, in []replicaRegionJSON, force bool) {
	var readErr *apiError
	for _, v := range primary.Versions {
		if readErr = s.decrypt(primary, v); readErr != nil {
			break
		}
	}
	for _, r := range in {
		rep := &replica{Region: *r.Region, KmsKeyID: deref(r.KmsKeyId), Status: statusInSync, StatusMessage: "Replication succeeded"}
		primary.Replicas = append(primary.Replicas, rep)
		reg := s.regions[rep.Region]
		old := reg.byName[primary.Name]
		// Only a standalone secret can be overwritten: not another
		// secret's replica, nor a primary with replicas of its own.
		if old != nil && (!force || old.PrimaryRegion != "" || len(old.Replicas) > 0) {
			rep.Status, rep.StatusMessage = statusFailed, errNameTaken(primary.Name, rep.Region)
			continue
		}
		if readErr != nil {
			rep.Status, rep.StatusMessage = statusFailed, "Replication failed: "+readErr.Message
			continue
		}
		if err := reg.withKey(rep.KmsKeyID, reg.replicaARN(primary), "", "GenerateDataKey", "Encrypt"); err != nil {
			rep.Status, rep.StatusMessage = statusFailed, "Replication failed: "+err.Message
			continue
		}
		if old != nil {
			reg.remove(old)
		}
		reg.add(reg.copyReplica(primary, rep, nil))
	}
	s.touch(primary)
}

// replicaARN is the ARN of primary's replica in this Service's region.
func (s *Service) replicaARN(primary *secret) string {
	_, nameAndSuffix, _ := strings.Cut(primary.ARN, ":secret:")
	return s.arnPrefix() + nameAndSuffix
}

// copyReplica builds the replica of primary from its present state, keeping
// the creation and access dates of old, the replica it replaces (nil for a
// new one).
func (s *Service) copyReplica(primary *secret, rep *replica, old *secret) *secret {
	c := &secret{
		ARN: s.replicaARN(primary), Name: primary.Name, Description: primary.Description, KmsKeyID: rep.KmsKeyID,
		Tags: slices.Clone(primary.Tags), Tagged: primary.Tagged, ResourcePolicy: primary.ResourcePolicy,
		Created: s.cfg.Now(), LastChanged: primary.LastChanged, PrimaryRegion: arnRegion(primary.ARN),
	}
	if primary.Rotation != nil {
		r := *primary.Rotation
		c.Rotation = &r
	}
	if old != nil {
		c.Created, c.LastAccessed = old.Created, old.LastAccessed
	}
	for _, v := range primary.Versions {
		cv := &version{ID: v.ID, Binary: slices.Clone(v.Binary), Stages: slices.Clone(v.Stages), KmsKeyID: rep.KmsKeyID, Created: v.Created}
		if v.String != nil {
			cv.String = new(*v.String)
		}
		if old != nil {
			if ov := old.version(v.ID); ov != nil {
				cv.LastAccessed = ov.LastAccessed
			}
		}
		c.Versions = append(c.Versions, cv)
	}
	return c
}

// replicate copies every primary the request changed to its InSync
// replicas.
func (s *Service) replicate() {
	for primary := range s.unsynced {
		home := s.regions[arnRegion(primary.ARN)]
		if home == nil || home.byARN[primary.ARN] != primary {
			continue // removed by the request
		}
		for _, rep := range primary.Replicas {
			if rep.Status != statusInSync {
				continue
			}
			reg := s.regions[rep.Region]
			old := s.replicaIn(primary, rep.Region)
			if err := reg.usableKey(rep.KmsKeyID, reg.replicaARN(primary)); err != nil {
				rep.Status, rep.StatusMessage = statusFailed, "Replication failed: "+err.Message
				continue
			}
			if old != nil {
				reg.remove(old)
			}
			reg.add(reg.copyReplica(primary, rep, old))
		}
	}
	clear(s.unsynced)
}

// usableKey checks that a replica's key can encrypt, whoever writes the
// primary: Secrets Manager replicates with its own authority, so only a
// key that is missing or disabled fails replication, not a writer that
// may not use it.
func (s *Service) usableKey(keyID, arn string) *apiError {
	err := s.withKey(keyID, arn, "", "GenerateDataKey")
	if err != nil && err.Code == CodeAccessDenied {
		return nil
	}
	return err
}

// ReplicateSecretToRegions

type replicateSecretToRegionsInput struct {
	SecretId                    *string
	AddReplicaRegions           []replicaRegionJSON
	ForceOverwriteReplicaSecret *bool
}

type replicationOutput struct {
	ARN               string                  `json:"ARN"`
	ReplicationStatus []replicationStatusJSON `json:"ReplicationStatus"`
}

func (s *Service) replicateSecretToRegions(in *replicateSecretToRegionsInput, az AuthorizeFunc) (any, *apiError) {
	regions := map[string][]string{}
	addReplicaRegionsKey(regions, in.AddReplicaRegions, in.ForceOverwriteReplicaSecret)
	sec, err := s.target(in.SecretId, "ReplicateSecretToRegions", az, regions)
	if err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	if err := s.checkReplicaRegions(in.AddReplicaRegions, sec.Replicas); err != nil {
		return nil, err
	}
	s.addReplicas(sec, in.AddReplicaRegions, deref(in.ForceOverwriteReplicaSecret))
	return replicationOutput{sec.ARN, s.replicationStatus(sec)}, nil
}

// RemoveRegionsFromReplication

type removeRegionsFromReplicationInput struct {
	SecretId             *string
	RemoveReplicaRegions []string
}

func (s *Service) removeRegionsFromReplication(in *removeRegionsFromReplicationInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "RemoveRegionsFromReplication", az)
	if err != nil {
		return nil, err
	}
	if len(in.RemoveReplicaRegions) == 0 {
		return nil, invalidParam("You must provide at least one Region in RemoveReplicaRegions.")
	}
	for _, region := range in.RemoveReplicaRegions {
		if !slices.ContainsFunc(sec.Replicas, func(r *replica) bool { return r.Region == region }) {
			return nil, invalidParam("The secret isn't replicated to %s.", region)
		}
	}
	for _, region := range in.RemoveReplicaRegions {
		if rep := s.replicaIn(sec, region); rep != nil {
			s.regions[region].remove(rep)
		}
		sec.Replicas = slices.DeleteFunc(sec.Replicas, func(r *replica) bool { return r.Region == region })
	}
	return replicationOutput{sec.ARN, s.replicationStatus(sec)}, nil
}

// StopReplicationToReplica

func (s *Service) stopReplicationToReplica(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "StopReplicationToReplica", az)
	if err != nil {
		return nil, err
	}
	if sec.PrimaryRegion == "" {
		return nil, invalidRequest("The secret %s is not a replica: call StopReplicationToReplica in the Region of the replica to promote.", sec.Name)
	}
	if primary := s.primaryOf(sec); primary != nil {
		primary.Replicas = slices.DeleteFunc(primary.Replicas, func(r *replica) bool { return r.Region == s.cfg.Region })
		s.regions[sec.PrimaryRegion].touch(primary)
	}
	sec.PrimaryRegion = ""
	sec.LastChanged = s.cfg.Now()
	if s.rotatesItself(sec) {
		s.scheduleRotation(sec.Rotation.next())
	}
	return struct {
		ARN string `json:"ARN"`
	}{sec.ARN}, nil
}

// FailReplica marks the replica of the secret id (name or ARN of the
// primary or of the replica) in region Failed, as when its KMS key is
// disabled: it keeps its present state and is no longer replicated to. A
// test hook.
func (s *Service) FailReplica(region, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	reg := s.regions[region]
	if reg == nil {
		return fmt.Errorf("fail replica: the sandbox does not serve %s", region)
	}
	var primary *secret
	if sec := reg.lookup(id); sec != nil {
		primary = reg.primaryOf(sec)
	}
	if primary == nil {
		s.each(func(r *Service) {
			if sec := r.lookup(id); sec != nil && slices.ContainsFunc(sec.Replicas, func(x *replica) bool { return x.Region == region }) {
				primary = sec
			}
		})
	}
	if primary == nil {
		return fmt.Errorf("fail replica: no replica of %s in %s", id, region)
	}
	for _, r := range primary.Replicas {
		if r.Region == region {
			r.Status, r.StatusMessage = statusFailed, "Replication failed: the replica's KMS key can't be used (sandbox FailReplica)."
		}
	}
	s.regions[arnRegion(primary.ARN)].touch(primary)
	clear(s.unsynced)
	s.each((*Service).record)
	return nil
}
