package iam

import (
	"fmt"
	"net/http"

	"github.com/secretboot/secretboot/sandbox/internal/wire"
)

// Error constructors, one per IAM error code, with the HTTP status IAM
// uses for it (AWS-FACTS §3).

func noSuchEntity(format string, a ...any) error {
	return wire.NewError(http.StatusNotFound, "NoSuchEntity", fmt.Sprintf(format, a...))
}

func entityAlreadyExists(format string, a ...any) error {
	return wire.NewError(http.StatusConflict, "EntityAlreadyExists", fmt.Sprintf(format, a...))
}

func limitExceeded(format string, a ...any) error {
	return wire.NewError(http.StatusConflict, "LimitExceeded", fmt.Sprintf(format, a...))
}

func deleteConflict(format string, a ...any) error {
	return wire.NewError(http.StatusConflict, "DeleteConflict", fmt.Sprintf(format, a...))
}

func invalidInput(format string, a ...any) error {
	return wire.NewError(http.StatusBadRequest, "InvalidInput", fmt.Sprintf(format, a...))
}

func malformedPolicy(format string, a ...any) error {
	return wire.NewError(http.StatusBadRequest, "MalformedPolicyDocument", fmt.Sprintf(format, a...))
}

// validationError is what AWS answers when a parameter breaks the API
// model's constraints (required, length, pattern, range), before any IAM
// logic runs.
func validationError(format string, a ...any) error {
	return wire.NewError(http.StatusBadRequest, "ValidationError", fmt.Sprintf(format, a...))
}

func accessDenied(format string, a ...any) error {
	return wire.NewError(http.StatusForbidden, "AccessDenied", fmt.Sprintf(format, a...))
}
