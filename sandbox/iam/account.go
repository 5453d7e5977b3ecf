package iam

import "net/url"

// summaryEntryXML is one entry of GetAccountSummary's SummaryMap, an XML
// map of <entry><key/><value/></entry> elements.
type summaryEntryXML struct {
	Key   string `xml:"key"`
	Value int    `xml:"value"`
}

type getAccountSummaryResult struct {
	SummaryMap []summaryEntryXML `xml:"SummaryMap>entry"`
}

// defaultQuotas are AWS's default IAM quotas as GetAccountSummary names
// them, apart from AttachedPoliciesPerRoleQuota, which is configurable.
var defaultQuotas = map[string]int{
	"AccessKeysPerUserQuota":          2,
	"AssumeRolePolicySizeQuota":       trustPolicyMax,
	"AttachedPoliciesPerGroupQuota":   10,
	"AttachedPoliciesPerUserQuota":    10,
	"GlobalEndpointTokenVersion":      1,
	"GroupPolicySizeQuota":            5120,
	"GroupsPerUserQuota":              10,
	"GroupsQuota":                     300,
	"InstanceProfilesQuota":           1000,
	"PoliciesQuota":                   1500,
	"PolicySizeQuota":                 managedPolicyMax,
	"PolicyVersionsInUseQuota":        10000,
	"RolePolicySizeQuota":             inlineAggregateMax,
	"RolesQuota":                      1000,
	"ServerCertificatesQuota":         20,
	"SigningCertificatesPerUserQuota": 2,
	"UserPolicySizeQuota":             2048,
	"UsersQuota":                      5000,
	"VersionsPerPolicyQuota":          maxPolicyVersions,
}

// absent are the entities GetAccountSummary counts that the sandbox does
// not have (certificates, MFA devices, identity providers, a root
// password or keys): always 0.
var absent = []string{
	"AccountAccessKeysPresent", "AccountMFAEnabled", "AccountPasswordPresent", "AccountSigningCertificatesPresent",
	"MFADevices", "MFADevicesInUse", "Providers", "ServerCertificates",
}

// getAccountSummary reports the account's quotas and its real counts of
// roles, users, groups, instance profiles, customer managed policies and
// managed policy attachments (PolicyVersionsInUse), keys sorted.
func (s *Service) getAccountSummary(url.Values, Principal) (any, error) {
	m := map[string]int{
		"AttachedPoliciesPerRoleQuota": s.cfg.AttachedPoliciesPerRoleQuota,
		"InstanceProfiles":             len(s.st.Profiles),
		"Policies":                     len(s.st.Policies),
		"PolicyVersionsInUse":          0,
		"Roles":                        len(s.st.Roles),
		"Users":                        len(s.st.Users),
		"Groups":                       len(s.st.Groups),
	}
	for h := range s.st.holders() {
		m["PolicyVersionsInUse"] += len(h.Attached)
	}
	for k, v := range defaultQuotas {
		m[k] = v
	}
	for _, k := range absent {
		m[k] = 0
	}
	res := getAccountSummaryResult{SummaryMap: make([]summaryEntryXML, 0, len(m))}
	for _, k := range sortedKeys(m) {
		res.SummaryMap = append(res.SummaryMap, summaryEntryXML{Key: k, Value: m[k]})
	}
	return res, nil
}
