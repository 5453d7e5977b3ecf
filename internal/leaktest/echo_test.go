package leaktest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/secretboot/secretboot/sandbox"
	"github.com/secretboot/secretboot/sandbox/sandboxtest"
)

// echoEndpoint is an endpoint in front of an in-process sandbox that answers
// chosen Secrets Manager operations with an AWS-shaped error whose message
// is the whole request body, as a careless proxy or emulator might: for
// CreateSecret and PutSecretValue the body holds the payload, and for the
// stage key its bytes in base64. Real AWS redacts such members; secretboot
// must not rely on it.
type echoEndpoint struct {
	t   *testing.T
	s   *scanner
	sb  *sandbox.Server
	url string

	mu     sync.Mutex
	echo   map[string]bool // requests answered with an echo, by echoKey
	echoed map[string]int  // echoes sent, by echoKey
	called map[string]bool // every operation called
}

// secretsManagerOps are every Secrets Manager operation the CLI calls;
// TestNoLeakEchoEndpoint fails on a call of any other.
var secretsManagerOps = []string{
	"BatchGetSecretValue", "CancelRotateSecret", "CreateSecret", "DeleteResourcePolicy", "DeleteSecret", "DescribeSecret",
	"GetResourcePolicy", "GetSecretValue", "ListSecrets", "ListSecretVersionIds", "PutResourcePolicy", "PutSecretValue",
	"RemoveRegionsFromReplication", "ReplicateSecretToRegions", "RestoreSecret", "RotateSecret", "TagResource",
	"UntagResource", "UpdateSecret", "UpdateSecretVersionStage", "ValidateResourcePolicy",
}

// createWithReplicas is the echoKey of a CreateSecret that creates
// replicas too (AddReplicaRegions), which set can choose apart from the
// other CreateSecret calls.
const createWithReplicas = "CreateSecret+AddReplicaRegions"

// echoKey is the operation of a request, or createWithReplicas.
func echoKey(op string, body []byte) string {
	if op == "CreateSecret" && bytes.Contains(body, []byte(`"AddReplicaRegions"`)) {
		return createWithReplicas
	}
	return op
}

func newEchoEndpoint(t *testing.T, s *scanner) *echoEndpoint {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Account: account, Region: region, Regions: replicaRegions, KMSKeys: []string{mainKey, replicaKey}})
	if err != nil {
		t.Fatal(err)
	}
	e := &echoEndpoint{t: t, s: s, sb: sb, echo: map[string]bool{}, echoed: map[string]int{}, called: map[string]bool{}}
	ts := httptest.NewServer(e)
	e.url = ts.URL
	t.Cleanup(func() {
		ts.Close()
		_ = sb.Close()
	})
	return e
}

// set chooses the operations (echoKeys) answered with an echo from now on;
// CreateSecret includes createWithReplicas.
func (e *echoEndpoint) set(ops ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.echo = map[string]bool{}
	for _, op := range ops {
		e.echo[op] = true
	}
}

func (e *echoEndpoint) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.")
	if ok {
		e.learn(op, body)
		key := echoKey(op, body)
		e.mu.Lock()
		e.called[op] = true
		echo := e.echo[key] || e.echo[op]
		if echo {
			e.echoed[key]++
		}
		e.mu.Unlock()
		if echo {
			out, _ := json.Marshal(map[string]string{"__type": "InvalidRequestException", "message": string(body)})
			rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
			rw.Header().Set("X-Amzn-Requestid", "leaktest-echo")
			rw.WriteHeader(http.StatusBadRequest)
			_, _ = rw.Write(out)
			return
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	e.sb.ServeHTTP(rw, r)
}

// learn adds the payloads of a request as canaries: the CLI's generated
// values and stage key exist nowhere else before it writes them, and a
// write that fails leaves no copy to read back.
func (e *echoEndpoint) learn(op string, body []byte) {
	var in struct {
		SecretString *string
		SecretBinary []byte // base64 in the JSON body
	}
	if json.Unmarshal(body, &in) != nil {
		return
	}
	if in.SecretBinary != nil {
		e.s.add(canary{"request:" + op + ":binary", in.SecretBinary})
	}
	if in.SecretString == nil {
		return
	}
	e.s.add(canary{"request:" + op, []byte(*in.SecretString)})
	var fields map[string]any
	if json.Unmarshal([]byte(*in.SecretString), &fields) == nil {
		for k, v := range fields {
			// Short declared fields ("app") are not payloads of the test.
			if s, ok := v.(string); ok && len(s) >= 16 {
				e.s.add(canary{"request:" + op + ":" + k, []byte(s)})
			}
		}
	}
}

// env points the CLI at the endpoint with the sandbox's admin keys.
func (e *echoEndpoint) env() []string {
	id, secret := e.sb.AdminCredentials()
	return []string{"AWS_ENDPOINT_URL=" + e.url, "AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=" + region}
}

// secretsManager is an admin client of the sandbox behind the endpoint.
func (e *echoEndpoint) secretsManager() *secretsmanager.Client {
	id, secret := e.sb.AdminCredentials()
	return secretsmanager.NewFromConfig(sandboxtest.Config(e.url, region, credentials.NewStaticCredentialsProvider(id, secret, "")))
}

// dbReplicaRe and rotationRe find app/db's replicas and app/rotated's
// rotation block in the main spec.
var (
	dbReplicaRe = regexp.MustCompile(`(?m)^  replicas    = \{ "us-west-2" = \{ kms_key_arn = .*\n`)
	rotationRe  = regexp.MustCompile(`(?s)  rotation \{\n.*?\n  \}\n`)
)

// TestNoLeakEchoEndpoint runs plan, apply and import through the CLI
// against an endpoint that echoes request bodies in its error messages:
// first for every Secrets Manager operation, then for the payload-carrying
// writes only (so that apply gets as far as writing the stage key, new
// payloads, generated values and an imported secret's value), then one at
// a time for the calls that change a secret's replicas and rotation, then
// for the payload reads. Not one canary may reach any stream or file, with
// the output masker disabled (and, in long mode, enabled).
func TestNoLeakEchoEndpoint(t *testing.T) {
	t.Run("unmasked", func(t *testing.T) { runEchoEndpoint(t, true) })
	// As shipped too in long mode (SECRETBOOT_LONG_TESTS=1); the unmasked
	// run is the stronger proof.
	if os.Getenv("SECRETBOOT_LONG_TESTS") == "1" {
		t.Run("masked", func(t *testing.T) { runEchoEndpoint(t, false) })
	}
}

func runEchoEndpoint(t *testing.T, unmasked bool) {
	w, s := mainWorkspace(t)
	if unmasked {
		w.bin = secretbootWithFaults(t)
		w.setenv("SECRETBOOT_LEAKTEST_UNMASKED=1")
	}
	e := newEchoEndpoint(t, s)
	w.setenv(e.env()...)
	spec := []string{"--spec", "spec"}
	run := func(want int, args ...string) result {
		t.Helper()
		r := w.run(want, append(append([]string(nil), spec...), args...)...)
		if want != 0 && !bytes.Contains(r.stderr, []byte("InvalidRequestException")) && !bytes.Contains(r.stderr, []byte("400")) {
			t.Errorf("`secretboot %s` does not report the endpoint's error:\n%s", r.label, r.stderr)
		}
		return r
	}
	writes := []string{"CreateSecret", "PutSecretValue", "UpdateSecret"}
	reads := []string{"GetSecretValue", "BatchGetSecretValue"}

	// A secret someone else made under a declared name, to import.
	foreign := newCanary("foreign")
	s.add(foreign)
	if _, err := e.secretsManager().CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String("dev/app/imported"), SecretString: aws.String(string(foreign.value)),
	}); err != nil {
		t.Fatal(err)
	}

	// Every operation echoes: the CLI fails at its first call.
	e.set(secretsManagerOps...)
	run(1, "plan")
	run(1, "--debug", "apply", "-auto-approve")
	run(1, "import", "app/imported")

	// Writes echo: apply fails on its first write of the new stage.
	e.set(writes...)
	run(0, "import", "app/imported")
	run(1, "--debug", "apply", "-auto-approve")

	// The first calls of each kind that carries no payload but a secret's
	// settings: a secret created with its replicas, a resource policy
	// validated, rotation started.
	for _, key := range []string{createWithReplicas, "ValidateResourcePolicy", "RotateSecret"} {
		e.set(key)
		run(1, "--debug", "apply", "-auto-approve")
	}

	// The stage as apply leaves it, so that the next writes are updates.
	e.set()
	run(0, "apply", "-auto-approve")

	// Replication and rotation changed on existing secrets: a replica
	// removed, then added, rotation turned off.
	mainHCL, err := os.ReadFile(filepath.Join(w.spec, "main.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	noReplica := dbReplicaRe.ReplaceAll(mainHCL, nil)
	noRotation := rotationRe.ReplaceAll(mainHCL, nil)
	if bytes.Equal(noReplica, mainHCL) || bytes.Equal(noRotation, mainHCL) {
		t.Fatal("the main spec's app/db replica or app/rotated rotation is not where the test expects it")
	}
	w.write("main.hcl", noReplica)
	e.set("RemoveRegionsFromReplication")
	run(1, "--debug", "apply", "-auto-approve")
	e.set()
	run(0, "apply", "-auto-approve")
	w.write("main.hcl", mainHCL)
	e.set("ReplicateSecretToRegions")
	run(1, "--debug", "apply", "-auto-approve")
	w.write("main.hcl", noRotation)
	e.set("CancelRotateSecret")
	run(1, "--debug", "apply", "-auto-approve")
	w.write("main.hcl", mainHCL)
	e.set()
	run(0, "apply", "-auto-approve")

	// New payloads, a new description and a regenerated field: the
	// PutSecretValue and UpdateSecret calls echo.
	env2, field2 := newCanary("env"), newCanary("env-field")
	s.add(env2, field2)
	w.setenv("LEAK_ENV="+string(env2.value), "LEAK_FIELD="+string(field2.value))
	e.set(writes...)
	run(1, "--debug", "apply", "-auto-approve", "--var", "desc=v2", "--regenerate", "app/db.password")

	// Reads echo: the stage key cannot be read, nor the value apply keeps.
	e.set(reads...)
	run(1, "plan")
	run(1, "--debug", "apply", "-auto-approve", "--regenerate", "app/db.password")

	e.mu.Lock()
	for _, key := range []string{"CreateSecret", createWithReplicas, "PutSecretValue", "UpdateSecret", "GetSecretValue", "ListSecrets",
		"ValidateResourcePolicy", "RotateSecret", "RemoveRegionsFromReplication", "ReplicateSecretToRegions", "CancelRotateSecret"} {
		if e.echoed[key] == 0 {
			t.Errorf("no %s call was answered with an echo; echoes: %v", key, e.echoed)
		}
	}
	for op := range e.called {
		if !slices.Contains(secretsManagerOps, op) {
			t.Errorf("the CLI called %s, which is not in secretsManagerOps: add it, and echo it", op)
		}
	}
	e.mu.Unlock()
	checkFilesAtRest(t, w)
	s.report(t)
}
