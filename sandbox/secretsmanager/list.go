package secretsmanager

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

type filterJSON struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// filter keys of ListSecrets and BatchGetSecretValue (AWS-FACTS §1.1).
var filterKeys = []string{"all", "description", "name", "owning-service", "primary-region", "tag-key", "tag-value"}

const (
	maxFilters      = 10
	maxFilterValues = 10
	maxFilterValLen = 512
)

func validateFilters(fs []filterJSON) *apiError {
	if len(fs) > maxFilters {
		return invalidParam("You can specify at most %d filters.", maxFilters)
	}
	for _, f := range fs {
		if !slices.Contains(filterKeys, f.Key) {
			return invalidParam("Invalid filter key %q; valid keys are %s.", f.Key, strings.Join(filterKeys, ", "))
		}
		if len(f.Values) == 0 || len(f.Values) > maxFilterValues {
			return invalidParam("A filter must have 1 to %d values.", maxFilterValues)
		}
		for _, v := range f.Values {
			if len(v) == 0 || len(v) > maxFilterValLen {
				return invalidParam("A filter value must be 1 to %d characters.", maxFilterValLen)
			}
		}
	}
	return nil
}

// matches reports whether sec passes every filter. Within one filter, a
// secret matches when one of the plain values is a prefix of one of the
// key's attributes (or there are only negated values), and no "!"-negated
// value is. Matching is case-sensitive except for descriptions.
func matches(sec *secret, fs []filterJSON) bool {
	for _, f := range fs {
		var pos, neg []string
		for _, v := range f.Values {
			if n, ok := strings.CutPrefix(v, "!"); ok {
				neg = append(neg, n)
			} else {
				pos = append(pos, v)
			}
		}
		hit := func(v string) bool { return attrHasPrefix(sec, f.Key, v) }
		if len(pos) > 0 && !slices.ContainsFunc(pos, hit) {
			return false
		}
		if slices.ContainsFunc(neg, hit) {
			return false
		}
	}
	return true
}

func attrHasPrefix(sec *secret, key, prefix string) bool {
	switch key {
	case "name":
		return strings.HasPrefix(sec.Name, prefix)
	case "description":
		return wordsMatch(sec.Description, prefix)
	case "tag-key":
		return slices.ContainsFunc(sec.Tags, func(t tag) bool { return strings.HasPrefix(t.Key, prefix) })
	case "tag-value":
		return slices.ContainsFunc(sec.Tags, func(t tag) bool { return strings.HasPrefix(t.Value, prefix) })
	case "primary-region":
		// Every secret has one: a replica its primary's region, any
		// other secret its own (moto matches only replicated secrets).
		primary := sec.PrimaryRegion
		if primary == "" {
			primary = arnRegion(sec.ARN)
		}
		return strings.HasPrefix(primary, prefix)
	case "all":
		for _, k := range []string{"name", "description", "tag-key", "tag-value"} {
			if attrHasPrefix(sec, k, prefix) {
				return true
			}
		}
	}
	// owning-service: the sandbox has no secrets managed by other services.
	return false
}

// wordsMatch reports whether every word of the filter value begins a word of
// the description, ignoring case: AWS's description filter "matches a word in
// the secret's description", so "My Description" matches "Description of my
// secret" (Find secrets in AWS Secrets Manager, user guide, "Search
// filters").
func wordsMatch(description, value string) bool {
	want := words(value)
	if len(want) == 0 || description == "" {
		return false
	}
	have := words(description)
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.HasPrefix(h, w) }) {
			return false
		}
	}
	return true
}

// words splits s into lower-case runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// Pagination. A NextToken holds the sort key of the last entry returned, so
// a page boundary stays correct when secrets are created or deleted between
// pages.

func sortKey(t time.Time, tiebreak string) string {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	return fmt.Sprintf("%020d\x00%s", n, tiebreak)
}

func encodeToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// decodeToken returns the sort key a non-nil token holds ("" for nil).
func decodeToken(token *string) (string, *apiError) {
	if token == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil || len(b) == 0 {
		return "", clientErr(CodeInvalidNextToken, "The NextToken value is invalid.")
	}
	return string(b), nil
}

// pageStart returns the index of the first entry after the token's key in a
// list ordered by keys, ascending or descending.
func pageStart(token *string, keys []string, desc bool) (int, *apiError) {
	if token == nil {
		return 0, nil
	}
	k, err := decodeToken(token)
	if err != nil {
		return 0, err
	}
	for i, key := range keys {
		if (!desc && key > k) || (desc && key < k) {
			return i, nil
		}
	}
	return len(keys), nil
}

func maxResults(p *int64, limit, def int) (int, *apiError) {
	if p == nil {
		return def, nil
	}
	if *p < 1 || *p > int64(limit) {
		return 0, invalidParam("MaxResults must be between 1 and %d.", limit)
	}
	return int(*p), nil
}

// ListSecrets

type listSecretsInput struct {
	Filters                []filterJSON
	IncludePlannedDeletion *bool
	MaxResults             *int64
	NextToken              *string
	SortBy                 *string
	SortOrder              *string
}

type secretListEntry struct {
	arnName
	Description            string              `json:"Description,omitempty"`
	KmsKeyId               string              `json:"KmsKeyId,omitempty"`
	LastChangedDate        *epoch              `json:"LastChangedDate,omitempty"`
	LastAccessedDate       *epoch              `json:"LastAccessedDate,omitempty"`
	DeletedDate            *epoch              `json:"DeletedDate,omitempty"`
	Tags                   []tagJSON           `json:"Tags,omitempty"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
	CreatedDate            *epoch              `json:"CreatedDate,omitempty"`
	rotationOut
	PrimaryRegion string `json:"PrimaryRegion,omitempty"`
}

type listSecretsOutput struct {
	SecretList []secretListEntry `json:"SecretList"`
	NextToken  string            `json:"NextToken,omitempty"`
}

func (s *Service) listSecrets(in *listSecretsInput, az AuthorizeFunc) (any, *apiError) {
	if err := authorize(az, "ListSecrets", "*", ""); err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, 100, 100)
	if err != nil {
		return nil, err
	}
	if err := validateFilters(in.Filters); err != nil {
		return nil, err
	}
	secs, next, err := s.selectSecrets(in.Filters, deref(in.IncludePlannedDeletion), deref(in.SortBy), deref(in.SortOrder), in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	out := listSecretsOutput{SecretList: make([]secretListEntry, 0, len(secs)), NextToken: next}
	for _, sec := range secs {
		out.SecretList = append(out.SecretList, secretListEntry{
			arnName:                arnName{sec.ARN, sec.Name},
			Description:            sec.Description,
			KmsKeyId:               sec.KmsKeyID,
			LastChangedDate:        at(sec.LastChanged),
			LastAccessedDate:       at(dayOf(sec.LastAccessed)),
			DeletedDate:            at(sec.DeletionDate),
			Tags:                   tagsOut(sec.Tags),
			SecretVersionsToStages: sec.stagesByVersion(),
			CreatedDate:            at(sec.Created),
			rotationOut:            sec.rotationOut(),
			PrimaryRegion:          s.replicatedOut(sec).PrimaryRegion,
		})
	}
	return out, nil
}

// selectSecrets returns the page of at most limit secrets that pass the
// filters and sort after the token, and the next page's token ("" on the last
// page). Only the secrets after the token are sorted, so a page does not
// re-sort the secrets the pages before it returned.
func (s *Service) selectSecrets(fs []filterJSON, planned bool, sortBy, sortOrder string, token *string, limit int) ([]*secret, string, *apiError) {
	keyOf := func(sec *secret) string { return sortKey(sec.Created, sec.ARN) }
	switch sortBy {
	case "", "created-date":
	case "name":
		keyOf = func(sec *secret) string { return sec.Name + "\x00" + sec.ARN }
	case "last-changed-date":
		keyOf = func(sec *secret) string { return sortKey(sec.LastChanged, sec.ARN) }
	case "last-accessed-date":
		keyOf = func(sec *secret) string { return sortKey(dayOf(sec.LastAccessed), sec.ARN) }
	default:
		return nil, "", invalidParam("Invalid SortBy %q.", sortBy)
	}
	var desc bool
	switch sortOrder {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, "", invalidParam("Invalid SortOrder %q.", sortOrder)
	}
	after, err := decodeToken(token)
	if err != nil {
		return nil, "", err
	}
	type entry struct {
		sec *secret
		key string
	}
	var es []entry
	for _, sec := range s.listable() {
		if (!planned && sec.scheduled()) || !matches(sec, fs) {
			continue
		}
		if k := keyOf(sec); token == nil || (!desc && k > after) || (desc && k < after) {
			es = append(es, entry{sec, k})
		}
	}
	slices.SortFunc(es, func(a, b entry) int {
		if desc {
			return strings.Compare(b.key, a.key)
		}
		return strings.Compare(a.key, b.key)
	})
	var next string
	if len(es) > limit {
		es = es[:limit]
		next = encodeToken(es[limit-1].key)
	}
	secs := make([]*secret, len(es))
	for i, e := range es {
		secs[i] = e.sec
	}
	return secs, next, nil
}

// BatchGetSecretValue

type batchGetSecretValueInput struct {
	SecretIdList []string
	Filters      []filterJSON
	MaxResults   *int64
	NextToken    *string
}

type batchError struct {
	SecretId  string `json:"SecretId"`
	ErrorCode string `json:"ErrorCode"`
	Message   string `json:"Message"`
}

type batchGetSecretValueOutput struct {
	SecretValues []*secretValueOutput `json:"SecretValues"`
	Errors       []batchError         `json:"Errors,omitempty"`
	NextToken    string               `json:"NextToken,omitempty"`
}

const maxBatch = 20

func (s *Service) batchGetSecretValue(in *batchGetSecretValueInput, az AuthorizeFunc) (any, *apiError) {
	if err := authorize(az, "BatchGetSecretValue", "*", ""); err != nil {
		return nil, err
	}
	switch {
	case in.SecretIdList != nil && in.Filters != nil:
		return nil, invalidParam("You can't specify both SecretIdList and Filters.")
	case in.SecretIdList == nil && in.Filters == nil:
		return nil, invalidParam("You must specify either SecretIdList or Filters.")
	case in.SecretIdList != nil && (len(in.SecretIdList) == 0 || len(in.SecretIdList) > maxBatch):
		return nil, invalidParam("SecretIdList must hold 1 to %d secret IDs.", maxBatch)
	case in.SecretIdList != nil && in.MaxResults != nil:
		return nil, invalidParam("MaxResults can be used only with Filters.")
	}
	out := batchGetSecretValueOutput{SecretValues: []*secretValueOutput{}}
	get := func(id string) {
		sec, err := s.target(&id, "GetSecretValue", az)
		var v *secretValueOutput
		if err == nil {
			v, err = s.readValue(sec, nil, nil)
		}
		if err != nil {
			out.Errors = append(out.Errors, batchError{id, err.Code, err.Message})
			return
		}
		out.SecretValues = append(out.SecretValues, v)
	}
	if in.SecretIdList != nil {
		for _, id := range in.SecretIdList {
			get(id)
		}
		return out, nil
	}
	if err := validateFilters(in.Filters); err != nil {
		return nil, err
	}
	limit, err := maxResults(in.MaxResults, maxBatch, maxBatch)
	if err != nil {
		return nil, err
	}
	secs, next, err := s.selectSecrets(in.Filters, false, "", "", in.NextToken, limit)
	if err != nil {
		return nil, err
	}
	for _, sec := range secs {
		get(sec.ARN)
	}
	out.NextToken = next
	return out, nil
}
