package provision

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

// TestSDKLoggerStaysInOurStreams: the SDK's warnings reach the --debug log
// (which the CLI masks), never the process's stderr directly.
func TestSDKLoggerStaysInOurStreams(t *testing.T) {
	if _, ok := sdkLogger(nil).(logging.Nop); !ok {
		t.Errorf("without --debug the SDK logger is %T, want logging.Nop", sdkLogger(nil))
	}
	var buf bytes.Buffer
	l := sdkLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Logf(logging.Warn, "falling back to %s", "IMDSv1")
	if got := buf.String(); !strings.Contains(got, "falling back to IMDSv1") || !strings.Contains(got, "source=aws-sdk") {
		t.Errorf("debug log = %q", got)
	}
}
