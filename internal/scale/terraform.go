package scale

import (
	"fmt"
	"strings"

	"github.com/secretboot/secretboot/internal/escape"
	"github.com/secretboot/secretboot/provision"
	"github.com/secretboot/secretboot/spec"
)

// TerraformOptions say where the Terraform configuration of a stage points
// its provider and which secrets carry a changed value.
type TerraformOptions struct {
	Endpoint             string // the sandbox's URL, for Secrets Manager, IAM and STS
	AccessKey, SecretKey string
	// Versions holds a secret's value version by Secret.Name (1 when
	// absent): a higher one changes the secret's placeholder value and its
	// secret_string_wo_version, which is how Terraform is told that a
	// write-only value changed.
	Versions map[string]int
}

// TerraformSource returns main.tf for the stage d, the resources a
// Terraform user would write for what secretboot manages: per secret an
// aws_secretsmanager_secret and an aws_secretsmanager_secret_version with
// the write-only secret_string_wo (so no payload lands in the state); per
// managed role an aws_iam_role of the same name, path, description and
// trust, its aws_iam_instance_profile, and an aws_iam_role_policy granting
// GetSecretValue (and DescribeSecret where the spec says describe) on the
// exact ARNs of the secrets it reads.
//
// Values are placeholders of the payload's shape (the declared and
// generated fields of an object, a string otherwise, binary ones too):
// without the random provider, which a filesystem mirror of hashicorp/aws
// does not hold, Terraform has no generator, and the number of calls does
// not depend on the value.
func TerraformSource(d *spec.Desired, o TerraformOptions) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

provider "aws" {
  region                      = %s
  access_key                  = %s
  secret_key                  = %s
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  endpoints {
    iam            = %s
    secretsmanager = %s
    sts            = %s
  }
}
`, q(d.Region), q(o.AccessKey), q(o.SecretKey), q(o.Endpoint), q(o.Endpoint), q(o.Endpoint))

	addr := make(map[string]string, len(d.Secrets)) // Secret.Name → resource name
	type grant struct {
		secret   string
		describe bool
	}
	grants := map[string][]grant{} // Role.Key → what it reads
	for i, s := range d.Secrets {
		// Refused, not dropped: a comparison that left work out of
		// Terraform's side would flatter it.
		if len(s.CrossAccountReaders) > 0 || s.Rotation != nil || s.ResourcePolicy || len(s.Replicas) > 0 || s.KMSKeyARN != "" {
			return nil, fmt.Errorf("scale: secret %s: cross-account readers, rotation, resource policies, replicas and customer managed keys have no Terraform equivalent here", s.Key)
		}
		res := fmt.Sprintf("s%05d", i)
		addr[s.Name] = res
		for _, r := range s.Readers {
			grants[r.Role] = append(grants[r.Role], grant{res, r.Describe})
		}
		version := max(o.Versions[s.Name], 1)
		fmt.Fprintf(&b, `
resource "aws_secretsmanager_secret" %s {
  name = %s
}

resource "aws_secretsmanager_secret_version" %s {
  secret_id                = aws_secretsmanager_secret.%s.id
  secret_string_wo         = %s
  secret_string_wo_version = %d
}
`, q(res), q(s.Name), q(res), res, placeholder(s, version), version)
	}

	path := provision.RolePath(d)
	for i, r := range d.Roles {
		if !r.Managed() || len(r.Workloads) > 0 || r.PermissionsBoundary != "" {
			return nil, fmt.Errorf("scale: role %s: external roles, workloads and boundaries have no Terraform equivalent here", r.Key)
		}
		res := fmt.Sprintf("r%03d", i)
		services := make([]string, len(r.Services))
		for j, svc := range r.Services {
			services[j] = q(svc)
		}
		fmt.Fprintf(&b, `
resource "aws_iam_role" %s {
  name        = %s
  path        = %s
  description = %s
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = [%s] }, Action = "sts:AssumeRole" }]
  })
}
`, q(res), q(r.Name), q(path), q(r.Description), strings.Join(services, ", "))
		if r.InstanceProfile {
			fmt.Fprintf(&b, `
resource "aws_iam_instance_profile" %s {
  name = aws_iam_role.%s.name
  path = %s
  role = aws_iam_role.%s.name
}
`, q(res), res, q(path), res)
		}
		gs := grants[r.Key]
		if len(gs) == 0 {
			continue
		}
		var get, describe []string
		for _, g := range gs {
			arn := "aws_secretsmanager_secret." + g.secret + ".arn"
			get = append(get, arn)
			if g.describe {
				describe = append(describe, arn)
			}
		}
		statements := []string{fmt.Sprintf(`{ Effect = "Allow", Action = "secretsmanager:GetSecretValue", Resource = [%s] }`, strings.Join(get, ", "))}
		if len(describe) > 0 {
			statements = append(statements, fmt.Sprintf(`{ Effect = "Allow", Action = "secretsmanager:DescribeSecret", Resource = [%s] }`, strings.Join(describe, ", ")))
		}
		fmt.Fprintf(&b, `
resource "aws_iam_role_policy" %s {
  name = %s
  role = aws_iam_role.%s.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      %s,
    ]
  })
}
`, q(res), q(provision.ReadPolicyName), res, strings.Join(statements, ",\n      "))
	}
	return []byte(b.String()), nil
}

// q quotes s as an HCL string: names and descriptions come from the spec,
// where "${" is text.
var q = escape.HCLString

// placeholder is an HCL expression for a stand-in value of s's shape.
func placeholder(s *spec.Secret, version int) string {
	v := fmt.Sprintf("placeholder-%s-v%d", s.Key, version)
	if s.Payload.Kind != spec.KindObject {
		return q(v)
	}
	fields := make([]string, len(s.Payload.Fields))
	for i, f := range s.Payload.Fields {
		fields[i] = q(f) + " = " + q(v)
	}
	return "jsonencode({ " + strings.Join(fields, ", ") + " })"
}
