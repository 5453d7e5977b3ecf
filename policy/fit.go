package policy

import (
	"fmt"
	"strings"
)

// Limits are the IAM quotas that bound where a role's policy can live.
type Limits struct {
	InlineMax      int // aggregate inline policy characters per role
	ManagedMax     int // characters per managed policy
	MaxAttachments int // managed policies attached per role (10 by default, raisable to 20)
}

// DefaultLimits are IAM's default quotas (AWS-FACTS §4).
var DefaultLimits = Limits{InlineMax: 10240, ManagedMax: 6144, MaxAttachments: 10}

// InlineRoom is the inline policy characters a role has left for
// secretboot's read policy when its other inline policies take other: IAM's
// inline limit is on all of a role's inline policies together, which
// matters for an external role, whose owner's policies stay. Never
// negative.
func (l Limits) InlineRoom(other int) int { return max(l.InlineMax-other, 0) }

// Layout is where a role's read policy goes: inline when it fits, otherwise
// managed policies in order (the caller names them "<role>-read-1"…).
// Exactly one of Inline and Managed is set.
type Layout struct {
	Inline  *Document
	Managed []*Document
}

// TooLargeError reports a policy that cannot fit the role's quotas even when
// split. The numbers do not depend on the role, so the caller adds its name.
type TooLargeError struct {
	Needed    int // characters of the policy as one document
	Available int // characters the managed policies allowed per role can hold
	Documents int // managed policies the split needs (0 when one statement alone exceeds ManagedMax)
	Limits    Limits
}

func (e *TooLargeError) Error() string {
	if e.Documents == 0 {
		return fmt.Sprintf("policy needs %d characters and one of its statements alone exceeds the managed policy limit of %d", e.Needed, e.Limits.ManagedMax)
	}
	return fmt.Sprintf("policy needs %d characters (%d managed policies); at most %d fit in %d managed policies of %d characters",
		e.Needed, e.Documents, e.Available, e.Limits.MaxAttachments, e.Limits.ManagedMax)
}

// Fit places doc within limits (zero fields take DefaultLimits). A document
// within InlineMax stays inline. A larger one is split into managed policies
// of at most ManagedMax characters each: statements keep their order and
// their list of resources (sorted) is packed greedily, so the split is
// deterministic. A statement with a single resource, such as a KMS
// statement, keeps its resource and conditions; when its
// kms:EncryptionContext:SecretARN list is what makes it large, that list is
// divided instead, which grants exactly the same access because the values
// of one key are alternatives. Access is never widened. When more than
// MaxAttachments policies would be needed, Fit returns a *TooLargeError.
func Fit(doc *Document, limits Limits) (Layout, error) {
	if limits.InlineMax == 0 {
		limits.InlineMax = DefaultLimits.InlineMax
	}
	if limits.ManagedMax == 0 {
		limits.ManagedMax = DefaultLimits.ManagedMax
	}
	if limits.MaxAttachments == 0 {
		limits.MaxAttachments = DefaultLimits.MaxAttachments
	}
	doc = doc.normalized()
	needed := Size(doc)
	if needed <= limits.InlineMax {
		return Layout{Inline: doc}, nil
	}
	tooLarge := &TooLargeError{Needed: needed, Available: limits.MaxAttachments * limits.ManagedMax, Limits: limits}

	// Sizes are tracked incrementally: a document's size is that of the
	// empty document plus its statements plus one comma between each two.
	emptySize := Size(&Document{Version: doc.Version})
	var docs []*Document
	cur, curSize := &Document{Version: doc.Version}, emptySize
	flush := func() {
		if len(cur.Statement) > 0 {
			docs = append(docs, cur)
		}
		cur, curSize = &Document{Version: doc.Version}, emptySize
	}
	added := func(s Statement) int {
		n := RawSize([]byte(compactJSON(s.tree())))
		if len(cur.Statement) > 0 {
			n++
		}
		return n
	}
	fits := func(s Statement) bool { return curSize+added(s) <= limits.ManagedMax }
	for _, s := range doc.Statement {
		values, with := splitDimension(s)
		for len(values) > 0 {
			// Take the longest run of values that still fits the current
			// document; a fresh document must take at least one.
			k := 0
			for k < len(values) && fits(with(values[:k+1])) {
				k++
			}
			if k == 0 {
				if len(cur.Statement) == 0 {
					return Layout{}, tooLarge
				}
				flush()
				continue
			}
			part := with(values[:k])
			curSize += added(part)
			cur.Statement = append(cur.Statement, part)
			values = values[k:]
			if len(values) > 0 {
				flush()
			}
		}
	}
	flush()
	if len(docs) > limits.MaxAttachments {
		tooLarge.Documents = len(docs)
		return Layout{}, tooLarge
	}
	return Layout{Managed: docs}, nil
}

// splitDimension returns the list along which a statement can be divided
// without changing what it grants, and a function building the statement
// for a part of that list. A statement with nothing to divide yields itself
// as a single part.
func splitDimension(s Statement) (StringList, func(StringList) Statement) {
	if len(s.Resource) > 1 {
		return s.Resource, func(part StringList) Statement {
			c := s
			c.Resource = part
			return c
		}
	}
	// Values of one key are ORed for positive, single-valued operators, so
	// dividing them across statements (which are ORed too) is exact.
	for _, op := range []string{"StringEquals", "StringLike"} {
		for key, values := range s.Condition[op] {
			if strings.EqualFold(key, "kms:EncryptionContext:SecretARN") && len(values) > 1 {
				return values, func(part StringList) Statement {
					c := s
					c.Condition = make(Conditions, len(s.Condition))
					for o, keys := range s.Condition {
						c.Condition[o] = keys
					}
					m := make(map[string]StringList, len(s.Condition[op]))
					for k, v := range s.Condition[op] {
						m[k] = v
					}
					m[key] = part
					c.Condition[op] = m
					return c
				}
			}
		}
	}
	return StringList{""}, func(StringList) Statement { return s }
}
