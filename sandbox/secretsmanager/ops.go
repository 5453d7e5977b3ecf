package secretsmanager

import (
	"slices"
	"strings"
	"time"
)

type tagJSON struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func tagsIn(in []tagJSON) []tag {
	out := make([]tag, len(in))
	for i, t := range in {
		out[i] = tag(t)
	}
	return out
}

func tagsOut(in []tag) []tagJSON {
	if len(in) == 0 {
		return nil
	}
	out := make([]tagJSON, len(in))
	for i, t := range in {
		out[i] = tagJSON(t)
	}
	return out
}

type arnName struct {
	ARN  string `json:"ARN"`
	Name string `json:"Name"`
}

// CreateSecret

type createSecretInput struct {
	Name               *string
	ClientRequestToken *string
	Description        *string
	KmsKeyId           *string
	SecretString       *string
	SecretBinary       []byte
	Tags               []tagJSON

	AddReplicaRegions           []replicaRegionJSON
	ForceOverwriteReplicaSecret *bool
}

type createSecretOutput struct {
	arnName
	VersionId         string                  `json:"VersionId,omitempty"`
	ReplicationStatus []replicationStatusJSON `json:"ReplicationStatus,omitempty"`
}

func (s *Service) createSecret(in *createSecretInput, az AuthorizeFunc) (any, *apiError) {
	name := deref(in.Name)
	if err := firstErr(validateName(name), validateDescription(in.Description), validateToken(in.ClientRequestToken),
		validateValue(in.SecretString, in.SecretBinary, false), validateTags(tagsIn(in.Tags)),
		requireToken(in.ClientRequestToken, in.SecretString, in.SecretBinary)); err != nil {
		return nil, err
	}
	if in.AddReplicaRegions != nil {
		if err := s.checkReplicaRegions(in.AddReplicaRegions, nil); err != nil {
			return nil, err
		}
	}
	// A secret created with tags is evaluated with those tags as its
	// resource tags too, as AWS does for a resource its request creates
	// (IAM's ABAC tutorial grants CreateSecret on aws:ResourceTag alone).
	reqTags := requestTags(tagsIn(in.Tags))
	addReplicaRegionsKey(reqTags, in.AddReplicaRegions, in.ForceOverwriteReplicaSecret)
	if existing := s.byName[name]; existing != nil {
		if err := authorize(az, "CreateSecret", existing.ARN, existing.ResourcePolicy, reqTags, resourceTags(existing.Tags)); err != nil {
			return nil, err
		}
		s.touch(existing)
		return s.createAgain(existing, in)
	}
	suffix, err := s.randomString(suffixLen, suffixAlphabet)
	if err != nil {
		return nil, err
	}
	arn := s.arnPrefix() + name + "-" + suffix
	if err := authorize(az, "CreateSecret", arn, "", reqTags, resourceTags(tagsIn(in.Tags))); err != nil {
		return nil, err
	}
	// Adding replicas takes ReplicateSecretToRegions as well (API
	// reference, CreateSecret, "Required permissions").
	if in.AddReplicaRegions != nil {
		if err := authorize(az, "ReplicateSecretToRegions", arn, "", reqTags, resourceTags(tagsIn(in.Tags))); err != nil {
			return nil, err
		}
	}
	tags, err := mergeTags(nil, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	sec := &secret{
		ARN: arn, Name: name, Description: deref(in.Description), KmsKeyID: deref(in.KmsKeyId),
		Tags: tags, Tagged: len(tags) > 0, Created: now, LastChanged: now,
	}
	out := createSecretOutput{arnName: arnName{arn, name}}
	if in.SecretString != nil || in.SecretBinary != nil {
		v, err := s.newVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary, nil)
		if err != nil {
			return nil, err
		}
		out.VersionId = v.ID
	}
	s.add(sec)
	if in.AddReplicaRegions != nil {
		s.addReplicas(sec, in.AddReplicaRegions, deref(in.ForceOverwriteReplicaSecret))
		out.ReplicationStatus = s.replicationStatus(sec)
	}
	return out, nil
}

// createAgain answers CreateSecret for a name that is taken: a retry with the
// same token and value succeeds without change (AWS-FACTS §1.2); anything else
// conflicts.
func (s *Service) createAgain(sec *secret, in *createSecretInput) (any, *apiError) {
	if sec.scheduled() {
		return nil, invalidRequest("You can't create this secret because a secret with this name is already scheduled for deletion.")
	}
	if in.ClientRequestToken != nil {
		if v := sec.version(*in.ClientRequestToken); v != nil && v.sameValue(in.SecretString, in.SecretBinary) {
			return createSecretOutput{arnName: arnName{sec.ARN, sec.Name}, VersionId: v.ID}, nil
		}
	}
	return nil, clientErr(CodeResourceExists, "The operation failed because the secret %s already exists.", sec.Name)
}

// newVersion stores a new version, or recognises a retry. token nil means
// "generate one". stages nil means AWSCURRENT.
func (s *Service) newVersion(sec *secret, token *string, str *string, bin []byte, stages []string) (*version, *apiError) {
	id := deref(token)
	if id == "" {
		var err *apiError
		if id, err = s.newVersionID(); err != nil {
			return nil, err
		}
	}
	if v := sec.version(id); v != nil {
		if v.sameValue(str, bin) {
			// An idempotent retry: success, and the stages stay where
			// they are even if AWSCURRENT has moved on since.
			return v, nil
		}
		return nil, clientErr(CodeResourceExists, "You can't modify an existing version, you can only create a new version.")
	}
	// Encrypt before anything changes: a key KMS refuses leaves the
	// secret as it was.
	if err := s.withKey(sec.KmsKeyID, sec.ARN, id, "GenerateDataKey", "Decrypt"); err != nil {
		return nil, err
	}
	if stages == nil {
		stages = []string{stageCurrent}
		// A plain write after a rotation's AWSCURRENT moved onto the
		// AWSPENDING version takes AWSPENDING off that version too: AWS
		// leaves it [AWSPREVIOUS] (localstack's
		// test_update_secret_version_stages_current_pending snapshot,
		// recorded on AWS).
		if cur := sec.staged(stageCurrent); cur != nil {
			sec.removeStage(stagePending, cur)
		}
	}
	now := s.cfg.Now()
	v := &version{ID: id, Created: now, KmsKeyID: sec.KmsKeyID}
	if str != nil {
		v.String = new(*str)
	} else {
		v.Binary = slices.Clone(bin)
	}
	sec.Versions = append(sec.Versions, v)
	for _, st := range stages {
		sec.moveStage(st, v)
	}
	sec.LastChanged = now
	sec.prune(now)
	return v, nil
}

// DescribeSecret

type secretIDInput struct {
	SecretId *string
}

type describeSecretOutput struct {
	arnName
	Description        string              `json:"Description,omitempty"`
	KmsKeyId           string              `json:"KmsKeyId,omitempty"`
	LastChangedDate    *epoch              `json:"LastChangedDate,omitempty"`
	LastAccessedDate   *epoch              `json:"LastAccessedDate,omitempty"`
	DeletedDate        *epoch              `json:"DeletedDate,omitempty"`
	Tags               []tagJSON           `json:"Tags,omitzero"` // [] once the last tag is gone
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
	CreatedDate        *epoch              `json:"CreatedDate,omitempty"`
	rotationOut
	replicatedOut
}

func (s *Service) describeSecret(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "DescribeSecret", az)
	if err != nil {
		return nil, err
	}
	return describeSecretOutput{
		arnName:            arnName{sec.ARN, sec.Name},
		Description:        sec.Description,
		KmsKeyId:           sec.KmsKeyID,
		LastChangedDate:    at(sec.LastChanged),
		LastAccessedDate:   at(dayOf(sec.LastAccessed)),
		DeletedDate:        at(sec.DeletionDate),
		Tags:               sec.describedTags(),
		VersionIdsToStages: sec.stagesByVersion(),
		CreatedDate:        at(sec.Created),
		rotationOut:        sec.rotationOut(),
		replicatedOut:      s.replicatedOut(sec),
	}, nil
}

// GetSecretValue

type getSecretValueInput struct {
	SecretId     *string
	VersionId    *string
	VersionStage *string
}

type secretValueOutput struct {
	arnName
	VersionId     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   *epoch   `json:"CreatedDate,omitempty"`
}

func (s *Service) getSecretValue(in *getSecretValueInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "GetSecretValue", az)
	if err != nil {
		return nil, err
	}
	return s.readValue(sec, in.VersionId, in.VersionStage)
}

// readValue selects a version by ID and/or stage (default AWSCURRENT) and
// records the access.
func (s *Service) readValue(sec *secret, versionID, stage *string) (*secretValueOutput, *apiError) {
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	var v *version
	switch {
	case versionID != nil:
		if err := validateToken(versionID); err != nil {
			return nil, err
		}
		v = sec.version(*versionID)
		if v == nil {
			return nil, clientErr(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", *versionID)
		}
		if stage != nil && !slices.Contains(v.Stages, *stage) {
			// AWS's answer, recorded on AWS (localstack's
			// test_get_secret_value_errors snapshot).
			return nil, invalidRequest("You provided a VersionStage that is not associated to the provided VersionId.")
		}
	default:
		st := stageCurrent
		if stage != nil {
			st = *stage
		}
		if v = sec.staged(st); v == nil {
			return nil, clientErr(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", st)
		}
	}
	if err := s.decrypt(sec, v); err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	sec.LastAccessed, v.LastAccessed = now, now
	return &secretValueOutput{
		arnName:       arnName{sec.ARN, sec.Name},
		VersionId:     v.ID,
		SecretString:  v.String,
		SecretBinary:  v.Binary,
		VersionStages: slices.Clone(v.Stages),
		CreatedDate:   at(v.Created),
	}, nil
}

// PutSecretValue

type putSecretValueInput struct {
	SecretId           *string
	ClientRequestToken *string
	SecretString       *string
	SecretBinary       []byte
	VersionStages      []string
}

type putSecretValueOutput struct {
	arnName
	VersionId     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (s *Service) putSecretValue(in *putSecretValueInput, az AuthorizeFunc) (any, *apiError) {
	// AWS checks the token before it looks the secret up.
	if err := requireToken(in.ClientRequestToken, in.SecretString, in.SecretBinary); err != nil {
		return nil, err
	}
	sec, err := s.target(in.SecretId, "PutSecretValue", az)
	if err != nil {
		return nil, err
	}
	if err := firstErr(validateToken(in.ClientRequestToken), validateValue(in.SecretString, in.SecretBinary, true), validateStages(in.VersionStages)); err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	stages := in.VersionStages
	if stages != nil && len(stages) == 0 {
		stages = nil
	}
	v, err := s.newVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary, stages)
	if err != nil {
		return nil, err
	}
	return putSecretValueOutput{arnName{sec.ARN, sec.Name}, v.ID, slices.Clone(v.Stages)}, nil
}

// requireToken rejects a write of a value without a ClientRequestToken. Only
// raw requests lack one: the SDKs and the CLI generate it.
func requireToken(token, str *string, bin []byte) *apiError {
	if token == nil && (str != nil || bin != nil) {
		return errNoToken()
	}
	return nil
}

func validateStages(stages []string) *apiError {
	if len(stages) > 20 {
		return invalidParam("A version can have at most 20 staging labels.")
	}
	for _, st := range stages {
		if len(st) == 0 || len(st) > 256 {
			return invalidParam("A staging label must be 1 to 256 characters.")
		}
	}
	return nil
}

// UpdateSecret

type updateSecretInput struct {
	SecretId           *string
	ClientRequestToken *string
	Description        *string
	KmsKeyId           *string
	SecretString       *string
	SecretBinary       []byte
}

type updateSecretOutput struct {
	arnName
	VersionId string `json:"VersionId,omitempty"`
}

func (s *Service) updateSecret(in *updateSecretInput, az AuthorizeFunc) (any, *apiError) {
	if err := requireToken(in.ClientRequestToken, in.SecretString, in.SecretBinary); err != nil {
		return nil, err
	}
	sec, err := s.target(in.SecretId, "UpdateSecret", az)
	if err != nil {
		return nil, err
	}
	if err := firstErr(validateDescription(in.Description), validateToken(in.ClientRequestToken),
		validateValue(in.SecretString, in.SecretBinary, false)); err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	out := updateSecretOutput{arnName: arnName{sec.ARN, sec.Name}}
	oldKey := sec.KmsKeyID
	if in.KmsKeyId != nil {
		// Set first: the new value is encrypted under the new key.
		sec.KmsKeyID = *in.KmsKeyId
	}
	if in.SecretString != nil || in.SecretBinary != nil {
		v, err := s.newVersion(sec, in.ClientRequestToken, in.SecretString, in.SecretBinary, nil)
		if err != nil {
			sec.KmsKeyID = oldKey
			return nil, err
		}
		out.VersionId = v.ID
	}
	if in.KmsKeyId != nil && *in.KmsKeyId != oldKey {
		s.reencrypt(sec)
	}
	if in.Description != nil {
		sec.Description = *in.Description
	}
	sec.LastChanged = s.cfg.Now()
	return out, nil
}

// UpdateSecretVersionStage

type updateSecretVersionStageInput struct {
	SecretId            *string
	VersionStage        *string
	MoveToVersionId     *string
	RemoveFromVersionId *string
}

func (s *Service) updateSecretVersionStage(in *updateSecretVersionStageInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "UpdateSecretVersionStage", az)
	if err != nil {
		return nil, err
	}
	stage := deref(in.VersionStage)
	if err := validateStages([]string{stage}); err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	var to, from *version
	if in.MoveToVersionId != nil {
		if to = sec.version(*in.MoveToVersionId); to == nil {
			return nil, invalidParam("The version %s doesn't exist.", *in.MoveToVersionId)
		}
	}
	if in.RemoveFromVersionId != nil {
		if from = sec.version(*in.RemoveFromVersionId); from == nil {
			return nil, invalidParam("The version %s doesn't exist.", *in.RemoveFromVersionId)
		}
		if !slices.Contains(from.Stages, stage) {
			return nil, invalidParam("The staging label %s is not attached to version %s.", stage, from.ID)
		}
	}
	holder := sec.staged(stage)
	switch {
	case to == nil && from == nil:
		return nil, invalidParam("You must specify MoveToVersionId or RemoveFromVersionId.")
	case to == nil:
		if stage == stageCurrent {
			return nil, invalidParam("You can't remove the staging label AWSCURRENT from a version without moving it to another version.")
		}
		sec.removeStage(stage, from)
	default:
		// A label attached elsewhere moves only when the caller names
		// where it comes from, so a stale caller cannot steal it.
		if holder != nil && holder != to && holder != from {
			return nil, invalidParam("The staging label %s is currently attached to version %s, but you didn't specify it with RemoveFromVersionId.", stage, holder.ID)
		}
		if stage == stageCurrent {
			sec.finishRotation(to, s.cfg.Now())
		}
		sec.moveStage(stage, to)
	}
	sec.LastChanged = s.cfg.Now()
	return arnName{sec.ARN, sec.Name}, nil
}

// ListSecretVersionIds

type listSecretVersionIdsInput struct {
	SecretId          *string
	IncludeDeprecated *bool
	MaxResults        *int64
	NextToken         *string
}

type versionEntry struct {
	VersionId        string   `json:"VersionId"`
	VersionStages    []string `json:"VersionStages,omitempty"`
	KmsKeyIds        []string `json:"KmsKeyIds,omitempty"`
	CreatedDate      *epoch   `json:"CreatedDate,omitempty"`
	LastAccessedDate *epoch   `json:"LastAccessedDate,omitempty"`
}

type listSecretVersionIdsOutput struct {
	arnName
	Versions  []versionEntry `json:"Versions"`
	NextToken string         `json:"NextToken,omitempty"`
}

func (s *Service) listSecretVersionIds(in *listSecretVersionIdsInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "ListSecretVersionIds", az)
	if err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	// Newest first, by a page key of creation time and version ID (which
	// breaks ties), so that pages follow the order of the keys.
	type keyed struct {
		v   *version
		key string
	}
	var vs []keyed
	for _, v := range sec.Versions {
		if len(v.Stages) > 0 || deref(in.IncludeDeprecated) {
			vs = append(vs, keyed{v, sortKey(v.Created, v.ID)})
		}
	}
	slices.SortFunc(vs, func(a, b keyed) int { return strings.Compare(b.key, a.key) })
	entries := make([]versionEntry, len(vs))
	keys := make([]string, len(vs))
	for i, kv := range vs {
		v := kv.v
		entries[i] = versionEntry{
			VersionId: v.ID, VersionStages: slices.Clone(v.Stages), KmsKeyIds: v.kmsKeyOut(),
			CreatedDate: at(v.Created), LastAccessedDate: at(dayOf(v.LastAccessed)),
		}
		keys[i] = kv.key
	}
	start, err := pageStart(in.NextToken, keys, true)
	if err != nil {
		return nil, err
	}
	end := min(start+limit, len(entries))
	out := listSecretVersionIdsOutput{arnName: arnName{sec.ARN, sec.Name}, Versions: entries[start:end]}
	if end < len(entries) {
		out.NextToken = encodeToken(keys[end-1])
	}
	return out, nil
}

// TagResource / UntagResource

type tagResourceInput struct {
	SecretId *string
	Tags     []tagJSON
}

func (s *Service) tagResource(in *tagResourceInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "TagResource", az, requestTags(tagsIn(in.Tags)))
	if err != nil {
		return nil, err
	}
	if err := validateTags(tagsIn(in.Tags)); err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	tags, err := mergeTags(sec.Tags, tagsIn(in.Tags))
	if err != nil {
		return nil, err
	}
	sec.Tags = tags
	sec.Tagged = sec.Tagged || len(tags) > 0
	return struct{}{}, nil
}

type untagResourceInput struct {
	SecretId *string
	TagKeys  []string
}

func (s *Service) untagResource(in *untagResourceInput, az AuthorizeFunc) (any, *apiError) {
	var keys map[string][]string
	if len(in.TagKeys) > 0 {
		keys = map[string][]string{"aws:TagKeys": in.TagKeys}
	}
	sec, err := s.target(in.SecretId, "UntagResource", az, keys)
	if err != nil {
		return nil, err
	}
	if sec.scheduled() {
		return nil, errMarkedForDeletion()
	}
	// Removing a key that is not there is no error.
	sec.Tags = slices.DeleteFunc(sec.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return struct{}{}, nil
}

// DeleteSecret / RestoreSecret

type deleteSecretInput struct {
	SecretId                   *string
	RecoveryWindowInDays       *int64
	ForceDeleteWithoutRecovery *bool
}

type deleteSecretOutput struct {
	arnName
	DeletionDate *epoch `json:"DeletionDate"`
}

func (s *Service) deleteSecret(in *deleteSecretInput, az AuthorizeFunc) (any, *apiError) {
	force := deref(in.ForceDeleteWithoutRecovery)
	if force && in.RecoveryWindowInDays != nil {
		return nil, invalidParam("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	sec, err := s.target(in.SecretId, "DeleteSecret", az)
	if err != nil && err.Code == CodeResourceNotFound && force {
		// AWS answers a forced delete of a secret that does not exist
		// with success, so that a cleanup can be repeated.
		return s.forgetUnknown(*in.SecretId), nil
	}
	if err != nil {
		return nil, err
	}
	if len(sec.Replicas) > 0 {
		regions := make([]string, len(sec.Replicas))
		for i, r := range sec.Replicas {
			regions[i] = r.Region
		}
		// AWS documents the refusal; the code and text are moto's.
		return nil, invalidParam("You can't delete secret %s that still has replica regions [%s]", sec.Name, strings.Join(regions, ","))
	}
	days := int64(30)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, invalidParam("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	now := s.cfg.Now()
	out := deleteSecretOutput{arnName: arnName{sec.ARN, sec.Name}}
	switch {
	case force && s.cfg.ForceDeleteLag > 0:
		// Allowed for a secret already scheduled too: it ends the window,
		// after the lag of AWS's asynchronous deletion.
		if !sec.Forced {
			sec.DeletionDate, sec.Forced, sec.LastChanged = now.Add(s.cfg.ForceDeleteLag), true, now
			s.schedulePurge(sec.DeletionDate)
		}
		out.DeletionDate = at(now)
	case force:
		// Allowed for a secret already scheduled too: it ends the window.
		s.remove(sec)
		out.DeletionDate = at(now)
	case sec.scheduled():
		return nil, invalidRequest("You can't delete secret %s because it's already scheduled for deletion.", sec.Name)
	default:
		sec.DeletionDate = now.Add(time.Duration(days) * 24 * time.Hour)
		s.schedulePurge(sec.DeletionDate)
		sec.LastChanged = now
		out.DeletionDate = at(sec.DeletionDate)
	}
	return out, nil
}

// forgetUnknown answers a forced delete of an unknown secret: the name and
// ARN as the caller gave them (a name gets this account's ARN prefix and no
// random suffix, since there is none).
func (s *Service) forgetUnknown(id string) deleteSecretOutput {
	name, arn := id, id
	if n, ok := strings.CutPrefix(id, s.arnPrefix()); ok {
		name = n
	} else {
		arn = s.arnPrefix() + id
	}
	return deleteSecretOutput{arnName: arnName{arn, name}, DeletionDate: at(s.cfg.Now())}
}

func (s *Service) restoreSecret(in *secretIDInput, az AuthorizeFunc) (any, *apiError) {
	sec, err := s.target(in.SecretId, "RestoreSecret", az)
	if err != nil {
		return nil, err
	}
	if sec.Forced {
		return nil, invalidRequest("You can't restore secret %s because it was deleted without recovery.", sec.Name)
	}
	if sec.scheduled() {
		sec.DeletionDate = time.Time{}
		sec.LastChanged = s.cfg.Now()
	}
	return arnName{sec.ARN, sec.Name}, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
