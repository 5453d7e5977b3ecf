//go:build leaktest

package provision

import (
	"context"
	"encoding/json"
	"os"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// injectedPanic is the panic value: the operation's input as JSON, so that
// printing the value in any way prints the payload it carries.
type injectedPanic struct{ Input string }

// In a binary built with -tags leaktest, SECRETBOOT_LEAKTEST_PANIC=<operation>
// makes every call of that SDK operation panic with the operation's input in
// the panic value: for PutSecretValue, the payload. The
// no-payload harness (internal/leaktest) uses it to prove that a panic deep
// in the engine ends in the CLI's one-line report and never prints its
// value. No endpoint can provoke such a panic, and secretboot as shipped is
// not built with this tag.
func init() {
	op := os.Getenv("SECRETBOOT_LEAKTEST_PANIC")
	if op == "" {
		return
	}
	testAPIOptions = append(testAPIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("leaktest.Panic",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				if awsmiddleware.GetOperationName(ctx) == op {
					input, _ := json.Marshal(in.Parameters)
					panic(injectedPanic{Input: string(input)})
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}
