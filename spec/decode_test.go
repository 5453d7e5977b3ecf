package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zclconf/go-cty/cty"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *Config
	}{
		{
			name: "defaults",
			files: map[string]string{"main.hcl": `
project = "shop"
stage "dev" {
  region = "us-east-1"
}
`},
			want: &Config{Project: "shop", StageConfigs: []*StageConfig{
				{Name: "dev", Region: "us-east-1", NamePrefix: "dev/", RolePrefix: "shop-dev-"},
			}},
		},
		{
			name: "several files in name order",
			files: map[string]string{
				"b.hcl": `
secret "app/x" {
  readers  = [role.web, role.batch]
  describe = [role.web]
  value    = "v"
  generate "z" {}
  generate "a" { length = 8 }
}
role "web" {}
`,
				"a.hcl": `
project = "shop"
role "batch" { service = ["ecs-tasks.amazonaws.com"] }
variable "port" {
  type        = number
  default     = "5432"
  description = "db port"
}
variable "host" { type = string }
stage "prod" {
  region          = "eu-west-1"
  account_id      = "222222222222"
  assume_role_arn = "arn:aws:iam::222222222222:role/deployer"
  name_prefix     = upper("p/")
  role_prefix     = "shop-"
  vars            = { host = "h" }
}
`},
			want: &Config{
				Project: "shop",
				StageConfigs: []*StageConfig{{
					Name: "prod", Region: "eu-west-1", AccountID: "222222222222",
					AssumeRoleARN: "arn:aws:iam::222222222222:role/deployer", NamePrefix: "P/", RolePrefix: "shop-",
				}},
				Variables: []*VariableConfig{
					{Name: "host", Type: cty.String, Default: cty.NilVal},
					{Name: "port", Type: cty.Number, Default: cty.NumberIntVal(5432), Description: "db port"},
				},
				Roles: []*RoleConfig{{Name: "batch"}, {Name: "web"}},
				Secrets: []*SecretConfig{{
					Name:         "app/x",
					Readers:      []RoleRef{{Role: "web"}, {Role: "batch"}},
					DescribeRefs: []RoleRef{{Role: "web"}},
					Generators:   []*GenerateConfig{{Field: "a"}, {Field: "z"}},
				}},
			},
		},
		{
			name: "describe true and unlabelled generator",
			files: map[string]string{"main.hcl": `
project = "p"
role "web" {}
secret "token" {
  readers       = [role.web]
  describe      = true
  allow_literal = true
  generate {}
}
`},
			want: &Config{Project: "p", Roles: []*RoleConfig{{Name: "web"}}, Secrets: []*SecretConfig{{
				Name: "token", Readers: []RoleRef{{Role: "web"}}, AllowLiteral: true,
				Generators: []*GenerateConfig{{Field: ""}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSpec(t, tt.files)
			got, diags := Load(dir)
			if diags.HasErrors() {
				t.Fatalf("diagnostics:\n%s", renderDiags(got.Files(), diags))
			}
			if len(got.Files()) != len(tt.files) {
				t.Errorf("Files() holds %d files, want %d", len(got.Files()), len(tt.files))
			}
			tt.want.Dir = dir
			if diff := cmp.Diff(tt.want, got, cmpOpts); diff != "" {
				t.Errorf("Load (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadKeepsFilesOnError(t *testing.T) {
	dir := writeSpec(t, map[string]string{
		"a.hcl": "project = \"p\"\n",
		"b.hcl": "role \"web\" {\n  bogus = 1\n}\n",
		"c.hcl": "secret {\n",
	})
	c, diags := Load(dir)
	if c == nil || !diags.HasErrors() {
		t.Fatalf("want a config and errors, got %v, %v", c, diags)
	}
	if got := len(c.Files()); got != 3 {
		t.Errorf("Files() holds %d files, want 3", got)
	}
	if diff := cmp.Diff([]string{"error: Unclosed configuration block", "error: Missing name for secret", "error: Unsupported argument"}, summaries(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestLoadDirectoryProblems(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{"missing directory", "/nonexistent/secretboot-spec", []string{"error: Cannot read spec directory"}},
		{"no files", t.TempDir(), []string{"error: No spec files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, diags := Load(tt.dir)
			if c == nil || c.Files() == nil {
				t.Fatal("Load returned no config or a nil file map")
			}
			if diff := cmp.Diff(tt.want, summaries(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveStage(t *testing.T) {
	one := &Config{StageConfigs: []*StageConfig{{Name: "dev"}}}
	two := &Config{StageConfigs: []*StageConfig{{Name: "dev"}, {Name: "prod"}}}
	none := &Config{}
	tests := []struct {
		name      string
		c         *Config
		requested string
		want      string
		wantErr   string
	}{
		{name: "only stage", c: one, want: "dev"},
		{name: "requested", c: two, requested: "prod", want: "prod"},
		{name: "several, none chosen", c: two, wantErr: "the spec declares several stages (dev, prod): choose one with --stage or SECRETBOOT_STAGE"},
		{name: "unknown", c: two, requested: "qa", wantErr: `unknown stage "qa": the spec declares dev, prod`},
		{name: "no stages", c: none, wantErr: "the spec declares no stages: add a stage block"},
		{name: "no stages, requested", c: none, requested: "dev", wantErr: `unknown stage "dev": the spec declares no stages`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.ResolveStage(tt.requested)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if diff := cmp.Diff(tt.wantErr, gotErr); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("stage %q, want %q", got, tt.want)
			}
		})
	}
}
