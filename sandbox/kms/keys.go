package kms

import (
	"encoding/json"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// KeyMetadata as DescribeKey, CreateKey answer it for a symmetric
// encryption key.
type keyMetadata struct {
	AWSAccountId          string   `json:"AWSAccountId"`
	KeyId                 string   `json:"KeyId"`
	Arn                   string   `json:"Arn"`
	CreationDate          *epoch   `json:"CreationDate"`
	Enabled               bool     `json:"Enabled"`
	Description           string   `json:"Description"`
	KeyUsage              string   `json:"KeyUsage"`
	KeyState              string   `json:"KeyState"`
	DeletionDate          *epoch   `json:"DeletionDate,omitempty"`
	PendingDeletionWindow *int     `json:"PendingDeletionWindowInDays,omitempty"`
	Origin                string   `json:"Origin"`
	KeyManager            string   `json:"KeyManager"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	KeySpec               string   `json:"KeySpec"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms"`
	MultiRegion           bool     `json:"MultiRegion"`
}

func (s *Service) metadata(k *key) keyMetadata {
	m := keyMetadata{
		AWSAccountId: s.cfg.Account, KeyId: k.ID, Arn: k.ARN, CreationDate: at(k.Created),
		Enabled: k.State == stateEnabled, Description: k.Description, KeyUsage: "ENCRYPT_DECRYPT",
		KeyState: k.State, DeletionDate: at(k.DeletionDate), Origin: "AWS_KMS", KeyManager: "CUSTOMER",
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT",
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
	}
	if k.State == statePendingDeletion {
		m.PendingDeletionWindow = &k.PendingWindow
	}
	return m
}

type keyMetadataOutput struct {
	KeyMetadata keyMetadata `json:"KeyMetadata"`
}

// CreateKey

type createKeyInput struct {
	Policy      *string
	Description *string
	KeyUsage    *string
	KeySpec     *string
	// CustomerMasterKeySpec is KeySpec's deprecated spelling.
	CustomerMasterKeySpec *string
	Origin                *string
	MultiRegion           *bool
	// BypassPolicyLockoutSafetyCheck skips the check that the caller could
	// change the new policy again.
	BypassPolicyLockoutSafetyCheck bool
}

func (s *Service) createKey(in *createKeyInput, az AuthorizeFunc) (any, *apiError) {
	if in.Description != nil && len(*in.Description) > 8192 {
		return nil, validation("'...'", "description", "Member must have length less than or equal to 8192")
	}
	switch {
	case in.KeyUsage != nil && *in.KeyUsage != "ENCRYPT_DECRYPT",
		in.KeySpec != nil && *in.KeySpec != "SYMMETRIC_DEFAULT",
		in.CustomerMasterKeySpec != nil && *in.CustomerMasterKeySpec != "SYMMETRIC_DEFAULT",
		in.Origin != nil && *in.Origin != "AWS_KMS",
		in.MultiRegion != nil && *in.MultiRegion:
		// Valid on AWS, outside what the sandbox emulates: say so rather
		// than create a key that behaves unlike AWS's.
		return nil, clientErr(CodeUnsupported, "The sandbox emulates symmetric, single-Region keys with KMS key material only.")
	}
	if err := authorize(az, "CreateKey", nil, nil); err != nil {
		return nil, err
	}
	if in.Policy != nil {
		if err := s.checkPolicy(*in.Policy, "", in.BypassPolicyLockoutSafetyCheck, az); err != nil {
			return nil, err
		}
	}
	k, err := s.newKey("", deref(in.Policy), deref(in.Description))
	if err != nil {
		return nil, err
	}
	return keyMetadataOutput{s.metadata(k)}, nil
}

// checkPolicy validates a key policy: JSON with statements, at most 32 KiB,
// and, unless bypassed, one that lets the caller put a key policy again
// (the policy lockout safety check). keyARN is "" for a key being created.
func (s *Service) checkPolicy(pol, keyARN string, bypass bool, az AuthorizeFunc) *apiError {
	if len(pol) > 32768 {
		return validation("'...'", "policy", "Member must have length less than or equal to 32768")
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(pol), &doc); err != nil || len(doc.Statement) == 0 {
		return clientErr(CodeMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	if bypass || az == nil {
		return nil
	}
	if keyARN == "" {
		keyARN = s.arnPrefix() + "key/*"
	}
	if az("kms:PutKeyPolicy", keyARN, pol, nil) != nil {
		return clientErr(CodeMalformedPolicy, "The new key policy will not allow you to update the key policy in the future.")
	}
	return nil
}

// DescribeKey

type keyIDInput struct {
	KeyId *string
}

func (s *Service) describeKey(in *keyIDInput, az AuthorizeFunc) (any, *apiError) {
	k, err := s.resolve(in.KeyId, true)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "DescribeKey", k, nil); err != nil {
		return nil, err
	}
	return keyMetadataOutput{s.metadata(k)}, nil
}

// ListKeys

type listInput struct {
	KeyId  *string
	Limit  *int
	Marker *string
}

type keyListEntry struct {
	KeyId  string `json:"KeyId"`
	KeyArn string `json:"KeyArn"`
}

type listKeysOutput struct {
	Keys       []keyListEntry `json:"Keys"`
	NextMarker string         `json:"NextMarker,omitempty"`
	Truncated  bool           `json:"Truncated"`
}

func (s *Service) listKeys(in *listInput, az AuthorizeFunc) (any, *apiError) {
	if err := authorize(az, "ListKeys", nil, nil); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(s.keys))
	for id := range s.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	page, next, err := paginate(ids, in.Limit, in.Marker)
	if err != nil {
		return nil, err
	}
	out := listKeysOutput{Keys: []keyListEntry{}, NextMarker: next, Truncated: next != ""}
	for _, id := range page {
		out.Keys = append(out.Keys, keyListEntry{id, s.keys[id].ARN})
	}
	return out, nil
}

// paginate pages a sorted list with KMS's Limit (1 to 1000, default 100)
// and an opaque Marker: here the position of the page's first item.
func paginate(items []string, limit *int, marker *string) ([]string, string, *apiError) {
	n := 100
	if limit != nil {
		if *limit < 1 || *limit > 1000 {
			return nil, "", validation("'"+strconv.Itoa(*limit)+"'", "limit", "Member must have value between 1 and 1000")
		}
		n = *limit
	}
	start := 0
	if marker != nil {
		i, err := strconv.Atoi(*marker)
		if err != nil || i < 0 || i > len(items) {
			return nil, "", clientErr(CodeInvalidMarker, "Invalid marker %s", *marker)
		}
		start = i
	}
	end := min(start+n, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

// Enable, Disable

func (s *Service) enableKey(in *keyIDInput, az AuthorizeFunc) (any, *apiError) {
	return s.setEnabled(in, az, "EnableKey", stateEnabled)
}

func (s *Service) disableKey(in *keyIDInput, az AuthorizeFunc) (any, *apiError) {
	return s.setEnabled(in, az, "DisableKey", stateDisabled)
}

func (s *Service) setEnabled(in *keyIDInput, az AuthorizeFunc, action, state string) (any, *apiError) {
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, action, k, nil); err != nil {
		return nil, err
	}
	if err := k.notPending(); err != nil {
		return nil, err
	}
	k.State = state
	return struct{}{}, nil
}

// ScheduleKeyDeletion, CancelKeyDeletion

type scheduleKeyDeletionInput struct {
	KeyId               *string
	PendingWindowInDays *int
}

type scheduleKeyDeletionOutput struct {
	KeyId               string `json:"KeyId"`
	DeletionDate        *epoch `json:"DeletionDate"`
	KeyState            string `json:"KeyState"`
	PendingWindowInDays int    `json:"PendingWindowInDays"`
}

func (s *Service) scheduleKeyDeletion(in *scheduleKeyDeletionInput, az AuthorizeFunc) (any, *apiError) {
	days := 30
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
		v := "'" + strconv.Itoa(days) + "'"
		switch {
		case days < 7:
			return nil, validation(v, "pendingWindowInDays", "Member must have value greater than or equal to 7")
		case days > 30:
			return nil, validation(v, "pendingWindowInDays", "Member must have value less than or equal to 30")
		}
	}
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "ScheduleKeyDeletion", k, nil); err != nil {
		return nil, err
	}
	if err := k.notPending(); err != nil {
		return nil, err
	}
	k.State, k.PendingWindow = statePendingDeletion, days
	k.DeletionDate = s.cfg.Now().Add(time.Duration(days) * 24 * time.Hour)
	return scheduleKeyDeletionOutput{k.ARN, at(k.DeletionDate), k.State, days}, nil
}

type keyIDOutput struct {
	KeyId string `json:"KeyId"`
}

// cancelKeyDeletion leaves the key Disabled, as AWS does: it must be enabled
// again before use.
func (s *Service) cancelKeyDeletion(in *keyIDInput, az AuthorizeFunc) (any, *apiError) {
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "CancelKeyDeletion", k, nil); err != nil {
		return nil, err
	}
	if k.State != statePendingDeletion {
		return nil, clientErr(CodeInvalidState, "%s is not pending deletion.", k.ARN)
	}
	k.State, k.DeletionDate, k.PendingWindow = stateDisabled, time.Time{}, 0
	return keyIDOutput{k.ARN}, nil
}

// Key policies. A key has one policy, named "default".

type keyPolicyInput struct {
	KeyId                          *string
	PolicyName                     *string
	Policy                         *string
	BypassPolicyLockoutSafetyCheck bool
}

type getKeyPolicyOutput struct {
	Policy     string `json:"Policy"`
	PolicyName string `json:"PolicyName"`
}

func checkPolicyName(name *string) *apiError {
	if name != nil && *name != "default" {
		if !policyNameRE.MatchString(*name) {
			return validation("'"+*name+"'", "policyName", "Member must satisfy regular expression pattern: [\\w]+")
		}
		return clientErr(CodeNotFound, "No such policy exists")
	}
	return nil
}

var policyNameRE = regexp.MustCompile(`^\w{1,128}$`)

func (s *Service) getKeyPolicy(in *keyPolicyInput, az AuthorizeFunc) (any, *apiError) {
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "GetKeyPolicy", k, nil); err != nil {
		return nil, err
	}
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	return getKeyPolicyOutput{k.Policy, "default"}, nil
}

func (s *Service) putKeyPolicy(in *keyPolicyInput, az AuthorizeFunc) (any, *apiError) {
	if in.Policy == nil {
		return nil, validation("null", "policy", "Member must not be null")
	}
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "PutKeyPolicy", k, nil); err != nil {
		return nil, err
	}
	if err := firstErr(checkPolicyName(in.PolicyName), k.notPending(),
		s.checkPolicy(*in.Policy, k.ARN, in.BypassPolicyLockoutSafetyCheck, az)); err != nil {
		return nil, err
	}
	k.Policy = *in.Policy
	return struct{}{}, nil
}

type listKeyPoliciesOutput struct {
	PolicyNames []string `json:"PolicyNames"`
	Truncated   bool     `json:"Truncated"`
}

func (s *Service) listKeyPolicies(in *listInput, az AuthorizeFunc) (any, *apiError) {
	k, err := s.resolve(in.KeyId, false)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "ListKeyPolicies", k, nil); err != nil {
		return nil, err
	}
	return listKeyPoliciesOutput{PolicyNames: []string{"default"}}, nil
}

func firstErr(errs ...*apiError) *apiError {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
