package policy

import "strings"

// globMatch reports whether s matches pattern, where '*' matches any run of
// characters (including '/' and ':') and '?' exactly one character. It is
// the wildcard syntax of IAM actions, resources and Like operators.
func globMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			// Let the last '*' absorb one more character and retry.
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// actionMatches compares actions case-insensitively, as IAM does.
func actionMatches(pattern, action string) bool {
	return globMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// arnMatches compares an ARN with an ARN pattern part by part (partition,
// service, region, account, resource), each with wildcards, as ArnLike does.
// The resource part keeps its colons so "secret:name-*" matches.
func arnMatches(pattern, arn string) bool {
	pp := strings.SplitN(pattern, ":", 6)
	ap := strings.SplitN(arn, ":", 6)
	if len(pp) != 6 || len(ap) != 6 || pp[0] != "arn" || ap[0] != "arn" {
		return false
	}
	for i := 1; i < 6; i++ {
		if !globMatch(pp[i], ap[i]) {
			return false
		}
	}
	return true
}

func anyMatch(patterns StringList, s string, match func(pattern, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}
