package secretsmanager

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/secretboot/secretboot/internal/golden"
)

// TestWireGolden pins the exact bytes of responses: member names, the
// epoch-seconds number format, omitted members and error bodies. Clock and
// randomness are fixed, so the transcript is deterministic.
func TestWireGolden(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	s := New(Config{
		Account: "000000000000", Region: "eu-west-1",
		Now:  func() time.Time { return now },
		Rand: rand.NewChaCha8([32]byte{1}),
	})
	steps := []struct{ op, body string }{
		{"CreateSecret", `{"Name":"dev/app/db","Description":"db","SecretString":"{\"password\":\"p\"}","ClientRequestToken":"11111111-1111-4111-8111-111111111111","Tags":[{"Key":"b","Value":"2"},{"Key":"a","Value":"1"}]}`},
		{"CreateSecret", `{"Name":"dev/empty"}`},
		{"PutSecretValue", `{"SecretId":"dev/app/db","SecretBinary":"AAEC","ClientRequestToken":"22222222-2222-4222-8222-222222222222"}`},
		{"DescribeSecret", `{"SecretId":"dev/app/db"}`},
		{"GetSecretValue", `{"SecretId":"dev/app/db","VersionStage":"AWSPREVIOUS"}`},
		{"ListSecrets", `{"MaxResults":1}`},
		{"ListSecretVersionIds", `{"SecretId":"dev/app/db"}`},
		{"GetSecretValue", `{"SecretId":"dev/empty"}`},
		{"DeleteSecret", `{"SecretId":"dev/empty","RecoveryWindowInDays":7}`},
		{"BatchGetSecretValue", `{"SecretIdList":["dev/app/db","dev/empty"]}`},
		{"GetRandomPassword", `{"PasswordLength":20}`},
		{"TagResource", `{"SecretId":"dev/app/db","Tags":[{"Key":"c","Value":"3"}]}`},
		{"CreateSecret", `{"Name":"dev/app/db","SecretString":"x","ClientRequestToken":"33333333-3333-4333-8333-333333333333"}`},
		{"PutSecretValue", `{"SecretId":"dev/app/db","SecretString":"x"}`},
		{"UntagResource", `{"SecretId":"dev/app/db","TagKeys":["a","b","c"]}`},
		{"DescribeSecret", `{"SecretId":"dev/app/db"}`},
		{"GetSecretValue", `{"SecretId":"dev app"}`},
		{"DeleteSecret", `{"SecretId":"dev/never","ForceDeleteWithoutRecovery":true}`},
		{"ValidateResourcePolicy", `{"ResourcePolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"*\"}]}"}`},
		{"DescribeSecret", `{"SecretId":"arn:aws:secretsmanager:eu-west-1:000000000000:secret:dev/nope-abcdef"}`},
	}
	var got bytes.Buffer
	for _, st := range steps {
		w := httptest.NewRecorder()
		s.Serve(w, st.op, []byte(st.body), nil, nil, "req")
		fmt.Fprintf(&got, "> %s %s\n< %d %s\n\n", st.op, st.body, w.Code, w.Body)
	}
	golden.Check(t, filepath.Join("testdata", "wire.golden"), got.Bytes())
}
