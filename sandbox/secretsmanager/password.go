package secretsmanager

import (
	"strings"
)

// Character classes of GetRandomPassword; punctuation is ASCII's, as AWS documents.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits      = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	maxPassword = 4096
)

type getRandomPasswordInput struct {
	PasswordLength          *int64
	ExcludeCharacters       *string
	ExcludeLowercase        *bool
	ExcludeUppercase        *bool
	ExcludeNumbers          *bool
	ExcludePunctuation      *bool
	IncludeSpace            *bool
	RequireEachIncludedType *bool
}

type getRandomPasswordOutput struct {
	RandomPassword string `json:"RandomPassword"`
}

func (s *Service) getRandomPassword(in *getRandomPasswordInput, az AuthorizeFunc) (any, *apiError) {
	if err := authorize(az, "GetRandomPassword", "*", ""); err != nil {
		return nil, err
	}
	n := int64(32)
	if in.PasswordLength != nil {
		n = *in.PasswordLength
	}
	if n < 1 || n > maxPassword {
		return nil, invalidParam("PasswordLength must be between 1 and %d.", maxPassword)
	}
	exclude := deref(in.ExcludeCharacters)
	keep := func(set string) string {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(exclude, r) {
				return -1
			}
			return r
		}, set)
	}
	var classes []string
	for _, c := range []struct {
		set  string
		skip bool
	}{
		{lowercase, deref(in.ExcludeLowercase)},
		{uppercase, deref(in.ExcludeUppercase)},
		{digits, deref(in.ExcludeNumbers)},
		{punctuation, deref(in.ExcludePunctuation)},
		{" ", !deref(in.IncludeSpace)},
	} {
		if set := keep(c.set); !c.skip && set != "" {
			classes = append(classes, set)
		}
	}
	if len(classes) == 0 {
		return nil, invalidParam("The password can't be generated: every character type is excluded.")
	}
	requireEach := in.RequireEachIncludedType == nil || *in.RequireEachIncludedType
	if requireEach && int64(len(classes)) > n {
		return nil, invalidParam("PasswordLength %d is too short to include a character of each of %d types.", n, len(classes))
	}
	all := strings.Join(classes, "")
	// Redraw until every class is present: for the lengths people use the
	// first draw almost always qualifies, and redrawing keeps the result
	// uniform over the qualifying passwords.
	for {
		pw, err := s.randomString(int(n), all)
		if err != nil {
			return nil, err
		}
		if !requireEach || hasEach(pw, classes) {
			return getRandomPasswordOutput{pw}, nil
		}
	}
}

func hasEach(pw string, classes []string) bool {
	for _, c := range classes {
		if !strings.ContainsAny(pw, c) {
			return false
		}
	}
	return true
}
