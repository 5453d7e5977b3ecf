package kms

import (
	"regexp"
	"sort"
	"strings"
)

// Aliases. An alias names one key of the same account and region; a key may
// have several.

type aliasInput struct {
	AliasName   *string
	TargetKeyId *string
}

var aliasNameRE = regexp.MustCompile(`^[a-zA-Z0-9/_-]+$`)

// checkAliasName applies AWS's rules (moto's recorded answers): the name
// starts with "alias/", does not use the reserved "alias/aws/" prefix, and
// has at most 256 characters of [a-zA-Z0-9/_-].
func checkAliasName(name *string) *apiError {
	n := deref(name)
	switch {
	case name == nil:
		return validation("null", "aliasName", "Member must not be null")
	case !strings.HasPrefix(n, "alias/"):
		return clientErr(CodeValidation, "Invalid identifier")
	case strings.HasPrefix(n, "alias/aws/"):
		return clientErr("NotAuthorizedException", "")
	case strings.Contains(n, ":"):
		return clientErr(CodeValidation, "%s contains invalid characters for an alias", n)
	case len(n) > 256 || !aliasNameRE.MatchString(n):
		return validation("'"+n+"'", "aliasName", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$")
	}
	return nil
}

// target resolves an alias's TargetKeyId, which names a key, not an alias.
func (s *Service) target(id *string) (*key, *apiError) {
	ref := deref(id)
	if strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/") {
		return nil, clientErr(CodeValidation, "Aliases must refer to keys. Not aliases")
	}
	k, err := s.resolve(id, false)
	if err != nil {
		return nil, err
	}
	return k, k.notPending()
}

func (s *Service) createAlias(in *aliasInput, az AuthorizeFunc) (any, *apiError) {
	if err := checkAliasName(in.AliasName); err != nil {
		return nil, err
	}
	k, err := s.target(in.TargetKeyId)
	if err != nil {
		return nil, err
	}
	if err := authorize(az, "CreateAlias", k, nil); err != nil {
		return nil, err
	}
	if s.aliases[*in.AliasName] != nil {
		return nil, clientErr(CodeAlreadyExists, "An alias with the name %s%s already exists", s.arnPrefix(), *in.AliasName)
	}
	now := s.cfg.Now()
	s.aliases[*in.AliasName] = &alias{Name: *in.AliasName, Target: k.ID, Created: now, Updated: now}
	return struct{}{}, nil
}

func (s *Service) updateAlias(in *aliasInput, az AuthorizeFunc) (any, *apiError) {
	if err := checkAliasName(in.AliasName); err != nil {
		return nil, err
	}
	k, err := s.target(in.TargetKeyId)
	if err != nil {
		return nil, err
	}
	a := s.aliases[*in.AliasName]
	if a == nil {
		return nil, clientErr(CodeNotFound, "Alias %s%s is not found.", s.arnPrefix(), *in.AliasName)
	}
	if err := firstErr(authorize(az, "UpdateAlias", s.keys[a.Target], nil), authorize(az, "UpdateAlias", k, nil)); err != nil {
		return nil, err
	}
	a.Target, a.Updated = k.ID, s.cfg.Now()
	return struct{}{}, nil
}

func (s *Service) deleteAlias(in *aliasInput, az AuthorizeFunc) (any, *apiError) {
	name := deref(in.AliasName)
	if !strings.HasPrefix(name, "alias/") {
		return nil, clientErr(CodeValidation, "Invalid identifier")
	}
	a := s.aliases[name]
	if a == nil {
		return nil, clientErr(CodeNotFound, "Alias %s%s is not found.", s.arnPrefix(), name)
	}
	if err := authorize(az, "DeleteAlias", s.keys[a.Target], nil); err != nil {
		return nil, err
	}
	delete(s.aliases, name)
	return struct{}{}, nil
}

type aliasListEntry struct {
	AliasName       string `json:"AliasName"`
	AliasArn        string `json:"AliasArn"`
	TargetKeyId     string `json:"TargetKeyId"`
	CreationDate    *epoch `json:"CreationDate"`
	LastUpdatedDate *epoch `json:"LastUpdatedDate"`
}

type listAliasesOutput struct {
	Aliases    []aliasListEntry `json:"Aliases"`
	NextMarker string           `json:"NextMarker,omitempty"`
	Truncated  bool             `json:"Truncated"`
}

// listAliases lists the customer aliases, of one key when KeyId is given.
// AWS also lists its managed keys' aliases (alias/aws/...), which the
// sandbox does not have.
func (s *Service) listAliases(in *listInput, az AuthorizeFunc) (any, *apiError) {
	var only *key
	if in.KeyId != nil {
		k, err := s.resolve(in.KeyId, false)
		if err != nil {
			return nil, err
		}
		only = k
	}
	if err := authorize(az, "ListAliases", nil, nil); err != nil {
		return nil, err
	}
	var names []string
	for name, a := range s.aliases {
		if only == nil || a.Target == only.ID {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	page, next, err := paginate(names, in.Limit, in.Marker)
	if err != nil {
		return nil, err
	}
	out := listAliasesOutput{Aliases: []aliasListEntry{}, NextMarker: next, Truncated: next != ""}
	for _, name := range page {
		a := s.aliases[name]
		out.Aliases = append(out.Aliases, aliasListEntry{name, s.arnPrefix() + name, a.Target, at(a.Created), at(a.Updated)})
	}
	return out, nil
}
