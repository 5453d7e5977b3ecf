package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const evalBase = `
project = "shop"
stage "dev" {
  region     = "us-east-1"
  account_id = "000000000000"
  vars       = { db_host = "db.dev.internal" }
}
stage "prod" {
  region      = "eu-west-1"
  account_id  = "222222222222"
  name_prefix = "prod-"
  role_prefix = "p-"
}
variable "db_host" {
  type    = string
  default = "db.default"
}
variable "replicas" {
  type    = list(number)
  default = [1]
}
`

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		extra map[string]string // more files
		stage string
		opts  EvalOptions
		want  *Desired
	}{
		{
			name:  "object with generated password",
			stage: "dev",
			body: `
role "web" { description = "web tier" }
secret "app/db/credentials" {
  description = "primary"
  readers     = [role.web]
  describe    = true
  value = {
    host     = var.db_host
    port     = 5432
    username = "app"
    replicas = var.replicas
  }
  generate "password" { special = false }
  tags = { team = "db" }
}`,
			want: &Desired{
				Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "000000000000",
				NamePrefix: "dev/", RolePrefix: "shop-dev-",
				Roles: []*Role{{Key: "web", Name: "shop-dev-web", Description: "web tier",
					Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true}},
				Secrets: []*Secret{{
					Key: "app/db/credentials", Name: "dev/app/db/credentials", Description: "primary",
					Readers: []Reader{{Role: "web", Describe: true}}, RecoveryWindowDays: 30,
					Tags: map[string]string{"team": "db"},
					Payload: Payload{
						Kind:       KindObject,
						Declared:   SealString(`{"host":"db.dev.internal","port":5432,"replicas":[1],"username":"app"}`),
						Fields:     []string{"host", "password", "port", "replicas", "username"},
						Generators: []Generator{{Field: "password", Length: 32, Upper: true, Lower: true, Numeric: true}},
					},
				}},
			},
		},
		{
			name:  "prefixes, env, external role, binary, describe list",
			stage: "prod",
			opts: EvalOptions{
				Vars:      map[string]string{"replicas": "[2, 3]"},
				LookupEnv: envMap(map[string]string{"STRIPE_KEY": "sk_test_1"}),
			},
			extra: map[string]string{"certs/demo.der": "\x00\x01binary"},
			body: `
role "web" {
  service              = ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]
  instance_profile     = false
  permissions_boundary = "arn:aws:iam::222222222222:policy/secretboot/shop/prod/secretboot-shop-prod-boundary"
}
role "reporting" { external = "arn:aws:iam::222222222222:role/team/tf-reporting" }
secret "stripe/key" {
  readers              = [role.web, role.reporting]
  describe             = [role.reporting]
  value                = env("STRIPE_KEY")
  kms_key_arn          = "arn:aws:kms:eu-west-1:222222222222:key/0000-1111"
  recovery_window_days = 7
}
secret "tls/cert" {
  readers = [role.web]
  binary  = filebase64("certs/demo.der")
}
secret "app/replicas" {
  readers = [role.web]
  value   = join(",", var.replicas)
}`,
			want: &Desired{
				Project: "shop", Stage: "prod", Region: "eu-west-1", AccountID: "222222222222",
				NamePrefix: "prod-", RolePrefix: "p-",
				PayloadFiles: []string{"certs/demo.der"},
				Roles: []*Role{
					{Key: "reporting", Name: "tf-reporting", External: "arn:aws:iam::222222222222:role/team/tf-reporting"},
					{Key: "web", Name: "p-web", Services: []string{"ec2.amazonaws.com", "ecs-tasks.amazonaws.com"},
						PermissionsBoundary: "arn:aws:iam::222222222222:policy/secretboot/shop/prod/secretboot-shop-prod-boundary"},
				},
				Secrets: []*Secret{
					{Key: "app/replicas", Name: "prod-app/replicas", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30,
						Payload: Payload{Kind: KindString, Declared: SealString("2,3")}},
					{Key: "stripe/key", Name: "prod-stripe/key", Readers: []Reader{{Role: "reporting", Describe: true}, {Role: "web"}},
						KMSKeyARN: "arn:aws:kms:eu-west-1:222222222222:key/0000-1111", RecoveryWindowDays: 7,
						Payload: Payload{Kind: KindString, Declared: SealString("sk_test_1")}},
					{Key: "tls/cert", Name: "prod-tls/cert", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30,
						Payload: Payload{Kind: KindBinary, Declared: Seal([]byte("\x00\x01binary"))}},
				},
			},
		},
		{
			name:  "wholly generated and var.stage",
			stage: "dev",
			body: `
role "web" {}
secret "app/token" {
  readers = [role.web]
  generate {
    length             = 64
    exclude_characters = "\"\\"
  }
}
secret "app/info" {
  readers = [role.web]
  value   = { stage = var.stage }
}`,
			want: &Desired{
				Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "000000000000",
				NamePrefix: "dev/", RolePrefix: "shop-dev-",
				Roles: []*Role{{Key: "web", Name: "shop-dev-web", Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true}},
				Secrets: []*Secret{
					{Key: "app/info", Name: "dev/app/info", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30,
						Payload: Payload{Kind: KindObject, Declared: SealString(`{"stage":"dev"}`), Fields: []string{"stage"}}},
					{Key: "app/token", Name: "dev/app/token", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30,
						Payload: Payload{Kind: KindString, Generators: []Generator{{Length: 64, Upper: true, Lower: true, Numeric: true, Special: true, ExcludeCharacters: "\"\\"}}}},
				},
			},
		},
		{
			// policy, verify and output in a job without the payload
			// sources: unset variables and missing files are not read,
			// and the generators are kept.
			name:  "without payloads",
			stage: "dev",
			opts:  EvalOptions{SkipPayloads: true},
			body: `
role "web" {}
secret "app/db" {
  readers = [role.web]
  value   = { password = env("UNSET_DB_PASSWORD") }
  generate "token" {}
}
secret "app/cert" {
  readers = [role.web]
  binary  = filebase64("missing.der")
}`,
			want: &Desired{
				Project: "shop", Stage: "dev", Region: "us-east-1", AccountID: "000000000000",
				NamePrefix: "dev/", RolePrefix: "shop-dev-", PayloadsSkipped: true,
				Roles: []*Role{{Key: "web", Name: "shop-dev-web", Services: []string{"ec2.amazonaws.com"}, InstanceProfile: true}},
				Secrets: []*Secret{
					{Key: "app/cert", Name: "dev/app/cert", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30},
					{Key: "app/db", Name: "dev/app/db", Readers: []Reader{{Role: "web"}}, RecoveryWindowDays: 30,
						Payload: Payload{Generators: []Generator{{Field: "token", Length: 32, Upper: true, Lower: true, Numeric: true, Special: true}}}},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"main.hcl": evalBase + tt.body}
			for k, v := range tt.extra {
				files[k] = v
			}
			c, diags := Load(writeSpec(t, files))
			if diags.HasErrors() {
				t.Fatalf("Load:\n%s", renderDiags(c.Files(), diags))
			}
			if tt.opts.LookupEnv == nil {
				tt.opts.LookupEnv = envMap(nil)
			}
			got, diags := c.Evaluate(tt.stage, tt.opts)
			if diags.HasErrors() {
				t.Fatalf("Evaluate:\n%s", renderDiags(c.Files(), diags))
			}
			if len(got.SpecHash) != 64 {
				t.Errorf("SpecHash %q is not a hex SHA-256", got.SpecHash)
			}
			if diff := cmp.Diff(tt.want, got, cmpOpts, cmpopts.IgnoreFields(Desired{}, "SpecHash")); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVariablePrecedence(t *testing.T) {
	spec := `
project = "p"
stage "dev" {
  region = "us-east-1"
  vars   = { v = "stage" }
}
stage "bare" { region = "us-east-1" }
variable "v" {
  type    = string
  default = "default"
}
role "web" {}
secret "s" {
  readers = [role.web]
  value   = { v = var.v }
}`
	tests := []struct {
		name  string
		stage string
		env   map[string]string
		vars  map[string]string
		want  string
	}{
		{"default", "bare", nil, nil, "default"},
		{"stage vars over default", "dev", nil, nil, "stage"},
		{"environment over stage vars", "dev", map[string]string{"SECRETBOOT_VAR_v": "env"}, nil, "env"},
		{"-var over environment", "dev", map[string]string{"SECRETBOOT_VAR_v": "env"}, map[string]string{"v": "flag"}, "flag"},
	}
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": spec}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, diags := c.Evaluate(tt.stage, EvalOptions{Vars: tt.vars, LookupEnv: envMap(tt.env)})
			if diags.HasErrors() {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			got := string(d.Secrets[0].Payload.Declared.Reveal())
			if diff := cmp.Diff(`{"v":"`+tt.want+`"}`, got); diff != "" {
				t.Errorf("payload (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSpecHash(t *testing.T) {
	spec := `
project = "p"
stage "dev" { region = "us-east-1" }
stage "qa" { region = "us-east-1" }
variable "v" { default = "a" }
role "web" {}
secret "s" {
  readers = [role.web]
  value   = { v = var.v, k = env("K") }
}`
	load := func(files map[string]string) *Config {
		c, diags := Load(writeSpec(t, files))
		if diags.HasErrors() {
			t.Fatal(renderDiags(c.Files(), diags))
		}
		return c
	}
	c := load(map[string]string{"main.hcl": spec})
	hashOf := func(c *Config, stage string, vars, env map[string]string) string {
		d, diags := c.Evaluate(stage, EvalOptions{Vars: vars, LookupEnv: envMap(env)})
		if diags.HasErrors() {
			t.Fatal(renderDiags(c.Files(), diags))
		}
		return d.SpecHash
	}
	hash := func(stage string, vars, env map[string]string) string { return hashOf(c, stage, vars, env) }
	base := hash("dev", nil, map[string]string{"K": "one"})
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"deterministic", hash("dev", nil, map[string]string{"K": "one"}), true},
		{"payload changes do not count", hash("dev", nil, map[string]string{"K": "two"}), true},
		{"stage counts", hash("qa", nil, map[string]string{"K": "one"}), false},
		{"variables count", hash("dev", map[string]string{"v": "b"}, map[string]string{"K": "one"}), false},
		// A plan saved where the spec is checked out at one path is applied
		// where it is checked out at another (writeSpec: a new directory).
		{"the directory does not count", hashOf(load(map[string]string{"main.hcl": spec}), "dev", nil, map[string]string{"K": "one"}), true},
		{"a file's name counts", hashOf(load(map[string]string{"other.hcl": spec}), "dev", nil, map[string]string{"K": "one"}), false},
		{"a file's content counts", hashOf(load(map[string]string{"main.hcl": spec + "\n"}), "dev", nil, map[string]string{"K": "one"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if (tt.got == base) != tt.same {
				t.Errorf("hash %s vs %s: want same=%v", tt.got, base, tt.same)
			}
		})
	}
}

func TestEvaluateExamples(t *testing.T) {
	env := envMap(map[string]string{"STRIPE_KEY": "sk_test_CANARY_example"})
	tests := []struct {
		dir     string
		stages  []string
		secrets map[string]int
	}{
		{"../examples/webapp", []string{"dev", "prod"}, map[string]int{"dev": 1, "prod": 1}},
		{"../examples/multistage", []string{"dev", "prod", "staging"}, map[string]int{"dev": 3, "prod": 3, "staging": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			c, diags := Load(tt.dir)
			if len(diags) > 0 {
				t.Fatal(renderDiags(c.Files(), diags))
			}
			if diff := cmp.Diff(tt.stages, c.Stages()); diff != "" {
				t.Errorf("stages (-want +got):\n%s", diff)
			}
			for _, st := range c.Stages() {
				d, diags := c.Evaluate(st, EvalOptions{LookupEnv: env})
				if len(diags) > 0 {
					t.Fatalf("%s:\n%s", st, renderDiags(c.Files(), diags))
				}
				if len(d.Secrets) != tt.secrets[st] {
					t.Errorf("%s: %d secrets, want %d", st, len(d.Secrets), tt.secrets[st])
				}
			}
		})
	}
	t.Run("multistage tls demo file", func(t *testing.T) {
		c, _ := Load("../examples/multistage")
		d, _ := c.Evaluate("dev", EvalOptions{LookupEnv: env})
		for _, s := range d.Secrets {
			if s.Key == "api/tls-cert" && !strings.Contains(string(s.Payload.Declared.Reveal()), "DEMO ONLY") {
				t.Errorf("the binary secret does not hold the demo file: %d bytes", s.Payload.Declared.Len())
			}
		}
	})
}

func TestEvaluatePayloadFieldsFromSensitiveSource(t *testing.T) {
	spec := `
project = "p"
stage "dev" { region = "us-east-1" }
role "web" {}
secret "db" {
  readers = [role.web]
  value   = jsondecode(file("db.json"))
  generate "password" {}
}
secret "mixed" {
  readers = [role.web]
  value = {
    user  = "app"
    token = env("T")
  }
}`
	c, diags := Load(writeSpec(t, map[string]string{"main.hcl": spec, "db.json": `{"user": "app", "host": "h"}`}))
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	d, diags := c.Evaluate("dev", EvalOptions{LookupEnv: envMap(map[string]string{"T": "t0k"})})
	if diags.HasErrors() {
		t.Fatal(renderDiags(c.Files(), diags))
	}
	type fields struct {
		Fields   []string
		Hidden   bool
		Composed string
	}
	got := map[string]fields{}
	for _, s := range d.Secrets {
		gen := map[string]Sealed{}
		for _, g := range s.Payload.Generators {
			gen[g.Field] = SealString("GEN")
		}
		composed, err := s.Payload.Compose(gen)
		if err != nil {
			t.Fatal(err)
		}
		got[s.Key] = fields{s.Payload.Fields, s.Payload.FieldsHidden, string(composed.Reveal())}
	}
	want := map[string]fields{
		"db":    {[]string{"password"}, true, `{"host":"h","password":"GEN","user":"app"}`},
		"mixed": {[]string{"token", "user"}, false, `{"token":"t0k","user":"app"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("payloads (-want +got):\n%s", diff)
	}
}
