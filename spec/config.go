package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Config is a loaded spec directory: every block decoded, nothing evaluated
// that depends on a stage. Evaluate turns it into a Desired per stage.
type Config struct {
	Dir          string
	Project      string
	ProjectRange hcl.Range

	StageConfigs []*StageConfig    // sorted by Name
	Variables    []*VariableConfig // sorted by Name
	Roles        []*RoleConfig     // sorted by Name
	Secrets      []*SecretConfig   // sorted by Name

	sources   map[string][]byte // every file read, by path
	parseOnce sync.Once
	files     map[string]*hcl.File // Files, parsed on first use
}

// StageConfig is a stage block. Its scalar attributes hold constants (they
// may use the pure functions, not variables or payload sources); vars is
// evaluated per stage because its values may come from env or file.
type StageConfig struct {
	Name          string
	Region        string
	AccountID     string
	AssumeRoleARN string
	NamePrefix    string // default "<stage>/"
	RolePrefix    string // default "<project>-<stage>-"

	Vars hcl.Expression // nil when absent
	// access holds resource_policy, deployer_arn, break_glass,
	// account_iam_read and replicas, which are evaluated per stage with the
	// secrets (access.go, replicas.go).
	access hcl.Attributes

	DeclRange hcl.Range
}

// VariableConfig is a variable block.
type VariableConfig struct {
	Name        string
	Type        cty.Type  // cty.DynamicPseudoType when no type is given
	Default     cty.Value // cty.NilVal when the variable is required
	Description string

	DeclRange hcl.Range
}

// Required reports whether the variable has no default.
func (v *VariableConfig) Required() bool { return v.Default == cty.NilVal }

// RoleConfig is a role block; its attributes are evaluated per stage.
type RoleConfig struct {
	Name      string
	Workloads []*WorkloadConfig // pod_identity, irsa and github_actions blocks, by kind then position

	attrs     hcl.Attributes
	DeclRange hcl.Range
}

// SecretConfig is a secret block. Readers and describe lists are static
// references to roles, resolved at load time; everything else is evaluated
// per stage.
type SecretConfig struct {
	Name         string
	Readers      []RoleRef
	DescribeAll  hcl.Expression // the describe attribute when it is not a list of roles
	DescribeRefs []RoleRef      // the describe attribute when it is a list of roles
	AllowLiteral bool
	ValueOwner   string            // "", ValueOwnerSecretboot or ValueOwnerRotation
	Generators   []*GenerateConfig // sorted by Field
	Rotation     *RotationConfig   // the rotation block, or nil

	attrs     hcl.Attributes
	DeclRange hcl.Range
}

// RoleRef is a reference such as role.web in readers or describe.
type RoleRef struct {
	Role  string
	Range hcl.Range
}

// GenerateConfig is a generate block of a secret; Field is "" when the block
// is unlabelled.
type GenerateConfig struct {
	Field string

	attrs     hcl.Attributes
	DeclRange hcl.Range
}

// Files holds every file by path, parsed, for rendering diagnostics with
// source snippets. Load keeps only the files' bytes: the syntax trees of a
// large spec outweigh everything decoded from them (65 MB against 41 MB
// at 10,000 secrets), and most runs print no diagnostic. So the first call
// parses the files again; parsing is deterministic, so the trees are those
// Load decoded.
func (c *Config) Files() map[string]*hcl.File {
	c.parseOnce.Do(func() {
		c.files = make(map[string]*hcl.File, len(c.sources))
		for p, src := range c.sources {
			c.files[p], _ = parseFile(src, p) // Load reported the diagnostics
		}
	})
	return c.files
}

// Stages returns the stage names, sorted.
func (c *Config) Stages() []string {
	names := make([]string, 0, len(c.StageConfigs))
	for _, s := range c.StageConfigs {
		names = append(names, s.Name)
	}
	return names
}

// Stage returns the named stage block, or nil.
func (c *Config) Stage(name string) *StageConfig {
	for _, s := range c.StageConfigs {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// ResolveStage picks the stage to work on: the requested one (from --stage
// or SECRETBOOT_STAGE), else the only stage of the spec.
func (c *Config) ResolveStage(requested string) (string, error) {
	names := c.Stages()
	if requested != "" {
		if c.Stage(requested) != nil {
			return requested, nil
		}
		if len(names) == 0 {
			return "", fmt.Errorf("unknown stage %q: the spec declares no stages", requested)
		}
		return "", fmt.Errorf("unknown stage %q: the spec declares %s", requested, strings.Join(names, ", "))
	}
	switch len(names) {
	case 0:
		return "", errors.New("the spec declares no stages: add a stage block")
	case 1:
		return names[0], nil
	default:
		return "", fmt.Errorf("the spec declares several stages (%s): choose one with --stage or SECRETBOOT_STAGE", strings.Join(names, ", "))
	}
}

// Load parses every *.hcl file of dir, in name order, and decodes it. The
// returned Config is never nil, and its Files hold every file that parsed,
// so diagnostics can always be rendered with snippets.
func Load(dir string) (*Config, hcl.Diagnostics) {
	c := &Config{Dir: dir, sources: map[string][]byte{}}
	paths, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err == nil && len(paths) == 0 {
		if _, statErr := os.Stat(dir); statErr != nil {
			err = statErr
		}
	}
	if err != nil {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read spec directory",
			Detail:   err.Error(),
		}}
	}
	if len(paths) == 0 {
		return c, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No spec files",
			Detail:   fmt.Sprintf("The directory %s holds no *.hcl files.", dir),
		}}
	}
	sort.Strings(paths)

	var diags hcl.Diagnostics
	var bodies []*hcl.BodyContent
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Failed to read file",
				Detail:   fmt.Sprintf("The configuration file %q could not be read.", p),
			})
			continue
		}
		f, ds := parseFile(src, p)
		diags = append(diags, ds...)
		c.sources[p] = src
		content, ds := f.Body.Content(rootSchema)
		diags = append(diags, ds...)
		bodies = append(bodies, content)
	}

	d := newDecoder(c)
	d.decode(bodies)
	return c, append(diags, d.diags...)
}
