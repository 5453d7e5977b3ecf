package secretsmanager

import (
	"bytes"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Staging labels that Secrets Manager moves by itself.
const (
	stageCurrent  = "AWSCURRENT"
	stagePrevious = "AWSPREVIOUS"
)

// Limits of AWS-FACTS §2.
const (
	maxNameLen        = 512
	maxDescriptionLen = 2048
	maxValueBytes     = 65536
	maxTags           = 50
	maxTagKeyLen      = 128
	maxTagValueLen    = 256
	minTokenLen       = 32
	maxTokenLen       = 64
	maxPolicyLen      = 20480
	// Versions without a label are pruned beyond this count, oldest first,
	// but never while younger than a day (AWS-FACTS §1.2).
	maxVersions    = 100
	pruneMinAge    = 24 * time.Hour
	suffixLen      = 6
	suffixAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+$`)

// secret is the stored state of one secret. Fields are exported for the JSON
// snapshot only; the snapshot is the one place payloads are written to.
type secret struct {
	ARN         string
	Name        string
	Description string `json:",omitempty"`
	KmsKeyID    string `json:",omitempty"`
	Tags        []tag  `json:",omitempty"`
	// Tagged is set once the secret has had a tag: from then on
	// DescribeSecret answers "Tags": [] when the last one is removed, as
	// AWS does, where a never-tagged secret has no Tags at all.
	Tagged         bool   `json:",omitempty"`
	ResourcePolicy string `json:",omitempty"`
	Created        time.Time
	LastChanged    time.Time
	LastAccessed   time.Time `json:",omitzero"`
	DeletionDate   time.Time `json:",omitzero"` // set while scheduled for deletion
	// Forced marks a secret deleted without recovery whose name is still
	// taken while the deletion completes (Config.ForceDeleteLag).
	Forced   bool      `json:",omitempty"`
	Rotation *rotation `json:",omitempty"` // nil until RotateSecret
	// PrimaryRegion is set on a replica: the region of its primary, which
	// alone takes writes (replication.go).
	PrimaryRegion string     `json:",omitempty"`
	Replicas      []*replica `json:",omitempty"` // a primary's replicas, in the order they were added
	Versions      []*version
}

// version is one version of a secret's value. Exactly one of String and
// Binary is set.
type version struct {
	ID       string
	String   *string `json:",omitempty"`
	Binary   []byte  `json:",omitempty"`
	Stages   []string
	KmsKeyID string `json:",omitempty"` // the secret's key when the version was written; "" is the default key
	// ReencryptedTo is the key UpdateSecret re-encrypted this version
	// under when it changed the secret's key; the version stays
	// decryptable under KmsKeyID too. "" when it was not re-encrypted.
	ReencryptedTo string `json:",omitempty"`
	Created       time.Time
	LastAccessed  time.Time `json:",omitzero"`
}

type tag struct {
	Key   string
	Value string
}

func (s *secret) scheduled() bool { return !s.DeletionDate.IsZero() }

func (s *secret) version(id string) *version {
	for _, v := range s.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func (s *secret) staged(stage string) *version {
	for _, v := range s.Versions {
		if slices.Contains(v.Stages, stage) {
			return v
		}
	}
	return nil
}

// moveStage attaches stage to v, taking it from whichever version holds it.
// Moving AWSCURRENT hands AWSPREVIOUS to the version that loses it, as AWS does.
func (s *secret) moveStage(stage string, v *version) {
	old := s.staged(stage)
	if old == v {
		return
	}
	if old != nil {
		old.Stages = slices.DeleteFunc(old.Stages, func(x string) bool { return x == stage })
	}
	v.Stages = append(v.Stages, stage)
	sort.Strings(v.Stages)
	if stage == stageCurrent && old != nil {
		s.moveStage(stagePrevious, old)
	}
}

// removeStage detaches stage from v.
func (s *secret) removeStage(stage string, v *version) {
	v.Stages = slices.DeleteFunc(v.Stages, func(x string) bool { return x == stage })
}

// prune drops the oldest unlabelled versions beyond maxVersions.
func (s *secret) prune(now time.Time) {
	for len(s.Versions) > maxVersions {
		i := slices.IndexFunc(s.Versions, func(v *version) bool {
			return len(v.Stages) == 0 && now.Sub(v.Created) >= pruneMinAge
		})
		if i < 0 {
			return
		}
		s.Versions = slices.Delete(s.Versions, i, i+1)
	}
}

// stagesByVersion maps each labelled version to its labels, as
// DescribeSecret (VersionIdsToStages) and ListSecrets (SecretVersionsToStages)
// return them; deprecated versions are left out.
func (s *secret) stagesByVersion() map[string][]string {
	m := map[string][]string{}
	for _, v := range s.Versions {
		if len(v.Stages) > 0 {
			m[v.ID] = slices.Clone(v.Stages)
		}
	}
	return m
}

// sameValue reports whether a version holds exactly the given value; used to
// tell an idempotent retry from a conflicting reuse of a ClientRequestToken.
func (v *version) sameValue(str *string, bin []byte) bool {
	if (str == nil) != (v.String == nil) || (bin == nil) != (v.Binary == nil) {
		return false
	}
	if str != nil {
		return *str == *v.String
	}
	return bytes.Equal(bin, v.Binary)
}

// dayOf truncates to midnight UTC: AWS reports LastAccessedDate per day.
func dayOf(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(24 * time.Hour)
}

// kmsKeyOut is the version's entry in ListSecretVersionIds' KmsKeyIds: AWS
// names the AWS managed key "DefaultEncryptionKey" (recorded on AWS,
// localstack's test_deprecated_secret_version_stage snapshot).
func (v *version) kmsKeyOut() []string {
	out := []string{v.KmsKeyID}
	if v.KmsKeyID == "" {
		out[0] = "DefaultEncryptionKey"
	}
	if v.ReencryptedTo != "" {
		out = append(out, v.ReencryptedTo)
	}
	return out
}

// describedTags is DescribeSecret's Tags: nil (absent) for a secret that
// never had a tag, [] once its last tag is removed, as AWS answers
// (localstack's test_secret_tags snapshot, recorded on AWS).
func (s *secret) describedTags() []tagJSON {
	if out := tagsOut(s.Tags); out != nil || !s.Tagged {
		return out
	}
	return []tagJSON{}
}

func validateName(name string) *apiError {
	switch {
	case name == "":
		return invalidParam("You must provide a value for the Name parameter.")
	case len(name) > maxNameLen:
		return invalidParam("The secret name must be at most %d characters.", maxNameLen)
	case !nameRE.MatchString(name):
		return errInvalidName()
	case len(name) > suffixLen && name[len(name)-suffixLen-1] == '-':
		// A name ending in "-" plus six characters is indistinguishable
		// from a partial ARN's random suffix (AWS-FACTS §2).
		return invalidParam("The secret name %q must not end with a hyphen followed by six characters.", name)
	}
	return nil
}

func validateDescription(d *string) *apiError {
	if d != nil && len(*d) > maxDescriptionLen {
		return invalidParam("The description must be at most %d characters.", maxDescriptionLen)
	}
	return nil
}

func validateToken(t *string) *apiError {
	if t != nil && (len(*t) < minTokenLen || len(*t) > maxTokenLen) {
		return invalidParam("ClientRequestToken must be %d to %d characters.", minTokenLen, maxTokenLen)
	}
	return nil
}

// validateValue checks the SecretString/SecretBinary pair of a write. With
// required=false both may be absent (CreateSecret without a value).
func validateValue(str *string, bin []byte, required bool) *apiError {
	switch {
	case str != nil && bin != nil:
		return invalidParam("You can't specify both a binary secret value and a string secret value in the same secret.")
	case str == nil && bin == nil:
		if required {
			return invalidParam("You must provide either SecretString or SecretBinary.")
		}
	case str != nil && (len(*str) == 0 || len(*str) > maxValueBytes):
		return invalidParam("SecretString must be 1 to %d bytes.", maxValueBytes)
	case bin != nil && (len(bin) == 0 || len(bin) > maxValueBytes):
		return invalidParam("SecretBinary must be 1 to %d bytes.", maxValueBytes)
	}
	return nil
}

func validateTags(tags []tag) *apiError {
	for _, t := range tags {
		switch {
		case len(t.Key) == 0 || len(t.Key) > maxTagKeyLen:
			return invalidParam("A tag key must be 1 to %d characters.", maxTagKeyLen)
		case len(t.Value) > maxTagValueLen:
			return invalidParam("The value of tag %q must be at most %d characters.", t.Key, maxTagValueLen)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalidParam("The tag key %q uses the reserved prefix aws:.", t.Key)
		}
	}
	return nil
}

// mergeTags applies tags over existing ones, keeping the result sorted by key
// so that every rendering is deterministic.
func mergeTags(existing, add []tag) ([]tag, *apiError) {
	m := map[string]string{}
	for _, t := range existing {
		m[t.Key] = t.Value
	}
	for _, t := range add {
		m[t.Key] = t.Value
	}
	if len(m) > maxTags {
		return nil, invalidParam("A secret can have at most %d tags.", maxTags)
	}
	out := make([]tag, 0, len(m))
	for k, v := range m {
		out = append(out, tag{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
