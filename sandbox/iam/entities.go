package iam

import (
	"net/url"
	"strings"
)

// Roles, users, groups and instance profiles are kept by lower-cased name:
// IAM names are unique without regard to case, and the lists are sorted by
// that key, which is also their pagination marker.

// find looks up the entity of m that the request's param names; missing is
// IAM's NoSuchEntity message, formatted with the name as given.
func find[T any](m map[string]*T, form url.Values, param string, maxLen int, missing string) (*T, error) {
	name, err := entityName(form, param, maxLen)
	if err != nil {
		return nil, err
	}
	e := m[strings.ToLower(name)]
	if e == nil {
		return nil, noSuchEntity(missing, name)
	}
	return e, nil
}

// underPath returns the keys, sorted, of the entities of m whose path
// starts with the request's PathPrefix.
func underPath[T any](form url.Values, m map[string]*T, path func(*T) string) ([]string, error) {
	prefix, err := pathPrefix(form)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range sortedKeys(m) {
		if strings.HasPrefix(path(m[k]), prefix) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// pageOf returns the page of the entities of m at keys (sorted) that the
// request's Marker and MaxItems select, each as show renders it; never nil,
// so that an empty list is still an element of the answer.
func pageOf[T, X any](form url.Values, m map[string]*T, keys []string, show func(*T) X) ([]X, page, error) {
	items, p, err := paginate(form, keys, func(k string) string { return k })
	if err != nil {
		return nil, page{}, err
	}
	out := []X{}
	for _, k := range items {
		out = append(out, show(m[k]))
	}
	return out, p, nil
}
