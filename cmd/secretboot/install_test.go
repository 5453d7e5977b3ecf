package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"go.yaml.in/yaml/v3"

	"github.com/secretboot/secretboot/internal/golden"
)

// ciSpec is the spec the example workflows deploy: dev without, prod with
// assume_role_arn, so between them every shape of the installers.
const ciSpec = "../../examples/ci/github/secrets"

// installerDocs is what `policy -deployer -json` prints, the documents
// every installer must hold.
type installerDocs struct {
	Deployer json.RawMessage `json:"deployer_policy"`
	Boundary struct {
		Name     string          `json:"name"`
		Path     string          `json:"path"`
		Document json.RawMessage `json:"document"`
	} `json:"boundary_policy"`
	Import json.RawMessage `json:"import_policy"`
}

// runCLI runs secretboot in-process with no environment and returns its
// stdout, failing the test on a non-zero exit.
func runCLI(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := runWithEnv(context.Background(), args, IOStreams{Out: &out, Err: &errOut}, noEnv); code != 0 {
		t.Fatalf("secretboot %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
	}
	return out.Bytes()
}

func deployerJSON(t *testing.T, specDir, stage string) installerDocs {
	t.Helper()
	var docs installerDocs
	out := runCLI(t, "policy", "--spec", specDir, "--stage", stage, "-deployer", "-json")
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatalf("policy -deployer -json: %v", err)
	}
	return docs
}

// reviewerJSON is what `policy -reviewer` prints: the plan role's policy,
// which every installer must hold.
func reviewerJSON(t *testing.T, specDir, stage string) json.RawMessage {
	t.Helper()
	return runCLI(t, "policy", "--spec", specDir, "--stage", stage, "-reviewer")
}

// TestInstallerGolden pins the installers of both stages and that they are
// byte-stable from run to run.
func TestInstallerGolden(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		for format, file := range map[string]string{"terraform": stage + ".tf", "cloudformation": stage + ".yaml"} {
			args := []string{"policy", "--spec", ciSpec, "--stage", stage, "-deployer", "-format", format}
			got := runCLI(t, args...)
			golden.Check(t, filepath.Join("testdata", "install", file), got)
			if again := runCLI(t, args...); !bytes.Equal(again, got) {
				t.Errorf("%s %s: a second run printed other bytes", stage, format)
			}
		}
	}
}

// TestTerraformDocumentsAreTheJSON evaluates each policy attribute of the
// Terraform module with HCL itself: each is the document of
// `policy -deployer -json`, byte for byte as -dir writes it.
func TestTerraformDocumentsAreTheJSON(t *testing.T) {
	for _, stage := range []string{"dev", "prod"} {
		t.Run(stage, func(t *testing.T) {
			docs := deployerJSON(t, ciSpec, stage)
			dir := t.TempDir()
			runCLI(t, "policy", "--spec", ciSpec, "--stage", stage, "-deployer", "-dir", dir)
			file := func(name string) string {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				// The files are the documents of -json, re-indented.
				var got, want any
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				raw := map[string]json.RawMessage{"deployer-policy.json": docs.Deployer, "boundary-policy.json": docs.Boundary.Document, "import-policy.json": docs.Import}[name]
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s is not the document of -json", name)
				}
				return string(b)
			}
			src := runCLI(t, "policy", "--spec", ciSpec, "--stage", stage, "-deployer", "-format", "terraform")
			f, diags := hclsyntax.ParseConfig(src, "main.tf", hcl.InitialPos)
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			attrs := map[string]string{} // "<type>.<name>.<attribute>" → literal value
			var names []string
			for _, b := range f.Body.(*hclsyntax.Body).Blocks {
				if b.Type != "resource" {
					continue
				}
				for name, a := range b.Body.Attributes {
					v, diags := a.Expr.Value(nil)
					if diags.HasErrors() || !v.Type().Equals(cty.String) {
						continue // an expression with references: the trust, names of other resources
					}
					key := b.Labels[0] + "." + b.Labels[1] + "." + name
					attrs[key] = v.AsString()
					names = append(names, key)
				}
			}
			sort.Strings(names)
			for key, want := range map[string]string{
				"aws_iam_policy.boundary.policy":      file("boundary-policy.json"),
				"aws_iam_policy.boundary.name":        docs.Boundary.Name,
				"aws_iam_policy.boundary.path":        docs.Boundary.Path,
				"aws_iam_role_policy.deployer.policy": file("deployer-policy.json"),
				"aws_iam_role_policy.import.policy":   file("import-policy.json"),
				"aws_iam_role_policy.plan.policy":     string(reviewerJSON(t, ciSpec, stage)),
			} {
				got, ok := attrs[key]
				if !ok {
					t.Errorf("%s: not a literal of the module (literals: %s)", key, strings.Join(names, ", "))
					continue
				}
				if got != want {
					t.Errorf("%s differs from policy -deployer -json:\n got %q\nwant %q", key, got, want)
				}
			}
		})
	}
}

// cfnResourceSchema is what the CloudFormation resource schemas
// (aws-iam-role.json, aws-iam-managedpolicy.json, aws-iam-oidcprovider.json,
// aws-iam-rolepolicy.json of the CloudFormation registry) say of the
// properties the template may use: every property of the type, and those
// required.
var cfnResourceSchema = map[string]struct{ properties, required []string }{
	"AWS::IAM::Role": {
		properties: []string{"AssumeRolePolicyDocument", "Description", "ManagedPolicyArns", "MaxSessionDuration", "Path", "PermissionsBoundary", "Policies", "RoleName", "Tags"},
		required:   []string{"AssumeRolePolicyDocument"},
	},
	"AWS::IAM::ManagedPolicy": {
		properties: []string{"Description", "Groups", "ManagedPolicyName", "Path", "PolicyDocument", "Roles", "Users"},
		required:   []string{"PolicyDocument"},
	},
	"AWS::IAM::OIDCProvider": {
		properties: []string{"ClientIdList", "Tags", "ThumbprintList", "Url"},
	},
	"AWS::IAM::RolePolicy": {
		properties: []string{"PolicyDocument", "PolicyName", "RoleName"},
		required:   []string{"PolicyName", "RoleName"},
	},
}

// TestCloudFormationTemplate parses the template as YAML and checks its
// resources against the resource schemas, and that every policy document
// in it is the JSON of `policy -deployer -json`. cfn-lint, where
// installed, checks the whole template against the full schemas.
func TestCloudFormationTemplate(t *testing.T) {
	stages := []string{"dev", "prod"}
	if os.Getenv("SECRETBOOT_LONG_TESTS") != "1" {
		stages = stages[1:] // prod only; .ci/run sets SECRETBOOT_LONG_TESTS=1 for both
	}
	for _, stage := range stages {
		t.Run(stage, func(t *testing.T) {
			docs := deployerJSON(t, ciSpec, stage)
			src := runCLI(t, "policy", "--spec", ciSpec, "--stage", stage, "-deployer", "-format", "cloudformation")
			var tmpl struct {
				Resources map[string]struct {
					Type       string         `yaml:"Type"`
					Properties map[string]any `yaml:"Properties"`
				} `yaml:"Resources"`
			}
			if err := yaml.Unmarshal(src, &tmpl); err != nil {
				t.Fatal(err)
			}
			for name, r := range tmpl.Resources {
				schema, ok := cfnResourceSchema[r.Type]
				if !ok {
					t.Errorf("%s: type %s has no schema here", name, r.Type)
					continue
				}
				for p := range r.Properties {
					if !slices.Contains(schema.properties, p) {
						t.Errorf("%s (%s): property %s is not in the type's schema", name, r.Type, p)
					}
				}
				for _, p := range schema.required {
					if _, ok := r.Properties[p]; !ok {
						t.Errorf("%s (%s): required property %s missing", name, r.Type, p)
					}
				}
			}
			prop := func(resource string, path ...any) any {
				var v any = tmpl.Resources[resource].Properties
				for _, k := range path {
					switch k := k.(type) {
					case string:
						m, _ := v.(map[string]any)
						v = m[k]
					case int:
						l, _ := v.([]any)
						if k >= len(l) {
							return nil
						}
						v = l[k]
					}
				}
				return v
			}
			for _, c := range []struct {
				what string
				got  any
				want json.RawMessage
			}{
				{"boundary", prop("Boundary", "PolicyDocument"), docs.Boundary.Document},
				{"deployer", prop("DeployerRole", "Policies", 0, "PolicyDocument"), docs.Deployer},
				{"import", prop("ImportPolicy", "PolicyDocument"), docs.Import},
				{"plan role", prop("PlanRole", "Policies", 0, "PolicyDocument"), reviewerJSON(t, ciSpec, stage)},
			} {
				var want any
				if err := json.Unmarshal(c.want, &want); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(c.got, want) {
					t.Errorf("%s policy document differs from policy -deployer -json:\n got %v\nwant %v", c.what, c.got, want)
				}
			}
			if got := prop("Boundary", "ManagedPolicyName"); got != docs.Boundary.Name {
				t.Errorf("boundary name %v, want %s", got, docs.Boundary.Name)
			}
			if got := prop("Boundary", "Path"); got != docs.Boundary.Path {
				t.Errorf("boundary path %v, want %s", got, docs.Boundary.Path)
			}
			if got := prop("DeployerRole", "Policies", 0, "PolicyName"); got != "secretboot-deployer" {
				t.Errorf("deployer policy name %v", got)
			}
			cfnLint(t, src)
		})
	}
}

// cfnLint runs cfn-lint on a template; it skips where cfn-lint is absent,
// unless SECRETBOOT_REQUIRE_TOOLS=1 (CI) makes it mandatory.
func cfnLint(t *testing.T, src []byte) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		requireTool(t, "cfn-lint (pip install cfn-lint) checks the template against CloudFormation's resource schemas")
		return
	}
	f := filepath.Join(t.TempDir(), "secretboot-deployer.yaml")
	if err := os.WriteFile(f, src, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, f).CombinedOutput(); err != nil {
		t.Errorf("cfn-lint: %v\n%s", err, out)
	}
}

// requireTool skips the test with why, or fails it when
// SECRETBOOT_REQUIRE_TOOLS=1 says that CI has every tool.
func requireTool(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("SECRETBOOT_REQUIRE_TOOLS") == "1" {
		t.Fatalf("SECRETBOOT_REQUIRE_TOOLS=1 but a tool is missing: %s", why)
	}
	t.Skipf("skipped, a tool is missing: %s", why)
}
