package iam

import (
	"encoding/base64"
	"net/url"
	"sort"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// page is the pagination part of a list response. Marker is left out on the
// last page because the Go paginators stop on an empty Marker and ignore
// IsTruncated (AWS-FACTS §3).
type page struct {
	IsTruncated bool   `xml:"IsTruncated"`
	Marker      string `xml:"Marker,omitempty"`
}

// paginate returns the slice of items (sorted by key) that the request's
// Marker and MaxItems select. The marker is the key of the first item of
// the next page, encoded so that callers treat it as opaque; resuming at
// "the first key not before the marker" stays correct when items are added
// or removed between pages.
func paginate[T any](form url.Values, items []T, key func(T) string) ([]T, page, error) {
	maxItems, err := wire.Int(form, "MaxItems", 100)
	if err != nil {
		return nil, page{}, validationError("%v", err)
	}
	if maxItems < 1 || maxItems > 1000 {
		return nil, page{}, validationError("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", maxItems)
	}
	start := 0
	if m := form.Get("Marker"); m != "" {
		k, err := base64.RawURLEncoding.DecodeString(m)
		if err != nil {
			return nil, page{}, validationError("Invalid Marker.")
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) >= string(k) })
	}
	end := min(start+maxItems, len(items))
	var p page
	if end < len(items) {
		p = page{IsTruncated: true, Marker: base64.RawURLEncoding.EncodeToString([]byte(key(items[end])))}
	}
	return items[start:end], p, nil
}
