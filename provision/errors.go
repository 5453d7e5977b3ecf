package provision

import (
	"errors"
	"fmt"

	"github.com/aws/smithy-go"
)

// AccessDeniedError reports that the caller may not make a call the engine
// needs. It is never turned into "missing".
type AccessDeniedError struct {
	Operation string
	Resource  string
	Err       error
}

func (e *AccessDeniedError) Error() string {
	on := ""
	if e.Resource != "" {
		on = " on " + e.Resource
	}
	return fmt.Sprintf("access denied: %s%s; the caller lacks an IAM permission for this call (it is not a missing resource): %v", e.Operation, on, e.Err)
}

func (e *AccessDeniedError) Unwrap() error { return e.Err }

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isAccessDenied(err error) bool {
	switch apiCode(err) {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError":
		return true
	}
	return false
}

func isNotFound(err error) bool {
	switch apiCode(err) {
	case "NoSuchEntity", "ResourceNotFoundException":
		return true
	}
	return false
}

// wrap gives an error the call and resource it came from, and turns an
// access denial into an AccessDeniedError.
func wrap(err error, op, resource string) error {
	if err == nil {
		return nil
	}
	if isAccessDenied(err) {
		return &AccessDeniedError{Operation: op, Resource: resource, Err: err}
	}
	return fmt.Errorf("%s (%s): %w", op, resource, err)
}

// errIncomplete reports an answer that lacks the element the operation
// always returns, as a malformed response or a misbehaving endpoint gives:
// an error to report, not a nil to dereference.
var errIncomplete = errors.New("the answer lacks the expected result element")
