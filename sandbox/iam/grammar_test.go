package iam

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/templates"
)

// corpusDoc is one document of the pinning corpus, with where IAM would
// use it.
type corpusDoc struct {
	name string
	kind documentKind
	text string
}

// engineCorpus is what the engine writes: the policy package's golden
// documents, the deployer, boundary and import policies of the CLI's
// transcript, every trust template and their merge, and generated read
// policies with their managed-policy splits. IAM must accept all of it.
func engineCorpus(t *testing.T) []corpusDoc {
	t.Helper()
	var docs []corpusDoc
	goldens, err := filepath.Glob(filepath.Join("..", "..", "policy", "testdata", "*.golden"))
	if err != nil || len(goldens) == 0 {
		t.Fatalf("policy goldens: %v (found %d)", err, len(goldens))
	}
	for _, path := range goldens {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		kind := identityPolicy
		if strings.HasPrefix(filepath.Base(path), "trust_") {
			kind = trustPolicy
		}
		for i, part := range splitDocs(string(b)) {
			docs = append(docs, corpusDoc{fmt.Sprintf("%s#%d", filepath.Base(path), i), kind, part})
		}
	}

	ar, err := txtar.ParseFile(filepath.Join("..", "..", "cmd", "secretboot", "testdata", "script", "policy_deployer.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range ar.Files {
		switch f.Name {
		case "want-dev.json":
			docs = append(docs, corpusDoc{"deployer", identityPolicy, string(f.Data)})
		case "want-dev-install.json":
			var inst struct {
				Deployer json.RawMessage `json:"deployer_policy"`
				Boundary struct {
					Document json.RawMessage `json:"document"`
				} `json:"boundary_policy"`
				Import json.RawMessage `json:"import_policy"`
			}
			if err := json.Unmarshal(f.Data, &inst); err != nil {
				t.Fatal(err)
			}
			docs = append(docs,
				corpusDoc{"installer deployer", identityPolicy, string(inst.Deployer)},
				corpusDoc{"installer boundary", identityPolicy, string(inst.Boundary.Document)},
				corpusDoc{"installer import", identityPolicy, string(inst.Import)})
		}
	}

	entries, err := templates.FS.ReadDir("trust")
	if err != nil {
		t.Fatal(err)
	}
	var services []string
	for _, e := range entries {
		svc := strings.TrimSuffix(e.Name(), ".json")
		services = append(services, svc)
		d, err := policy.TrustPolicy([]string{svc})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, corpusDoc{"trust " + svc, trustPolicy, string(d.Canonical())})
	}
	d, err := policy.TrustPolicy(services)
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, corpusDoc{"trust merged", trustPolicy, string(d.Canonical())})

	rng := rand.New(rand.NewPCG(13, 5))
	for i := range 40 {
		var grants []policy.Grant
		for j := range 1 + rng.IntN(120) {
			arn := fmt.Sprintf("arn:aws:secretsmanager:eu-west-1:123456789012:secret:stage%d/app-%d/secret_%d.v+=@", i, j, j)
			if rng.IntN(3) == 0 {
				arn += "-??????"
			} else {
				arn += "-AbC123"
			}
			g := policy.Grant{SecretARN: arn, Describe: rng.IntN(2) == 0}
			if rng.IntN(4) == 0 {
				g.KMSKeyARN = fmt.Sprintf("arn:aws:kms:eu-west-1:123456789012:key/%08x-0000-4000-8000-%012x", rng.IntN(4), j)
			}
			grants = append(grants, g)
		}
		doc := policy.ReadPolicy("eu-west-1", grants)
		docs = append(docs, corpusDoc{fmt.Sprintf("read %d", i), identityPolicy, string(doc.Canonical())})
		layout, err := policy.Fit(doc, policy.Limits{})
		if err != nil {
			continue // too large even split: the engine refuses it before IAM sees it
		}
		for k, m := range layout.Managed {
			docs = append(docs, corpusDoc{fmt.Sprintf("read %d managed %d", i, k+1), identityPolicy, string(m.Canonical())})
		}
	}
	return docs
}

// splitDocs cuts a golden file into its documents: split.golden holds
// several, each after a "# managed N: …" line.
func splitDocs(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if strings.TrimSpace(cur.String()) != "" {
			out = append(out, cur.String())
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(line, "# ") {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return out
}

// TestEngineDocumentsPassIAMRules pins the engine against the sandbox's own
// reading of IAM: every document the engine writes is one IAM accepts
// where it goes, both parse it, and both count it alike against the size
// quotas (as written and in the compact form the engine sizes).
func TestEngineDocumentsPassIAMRules(t *testing.T) {
	docs := engineCorpus(t)
	if len(docs) < 60 {
		t.Fatalf("corpus has %d documents; the sources above went missing", len(docs))
	}
	for _, d := range docs {
		t.Run(d.name, func(t *testing.T) {
			if !policyChars(d.text) {
				t.Errorf("characters IAM's API refuses in:\n%s", d.text)
			}
			if err := checkDocument(d.text, d.kind); err != nil {
				t.Errorf("IAM rules refuse it: %v\n%s", err, d.text)
			}
			parsed, err := policy.Parse([]byte(d.text))
			if err != nil {
				t.Fatalf("policy.Parse: %v", err)
			}
			if got, want := policy.RawSize([]byte(d.text)), policySize(d.text); got != want {
				t.Errorf("policy.RawSize = %d, IAM counts %d", got, want)
			}
			if got, want := policy.Size(parsed), policySize(string(parsed.Compact())); got != want {
				t.Errorf("policy.Size = %d, IAM counts %d for the compact form", got, want)
			}
		})
	}
}

// TestGrammarAgainstEngine runs edge cases through both readings. Where
// they differ the case says why, and the test checks that the difference
// is still there, so that a change on either side is noticed. The engine's
// parser reads documents IAM already holds and policy files people edit;
// it is lenient only where leniency cannot widen what the engine writes.
func TestGrammarAgainstEngine(t *testing.T) {
	const (
		ok    = ""
		res   = `"Resource":"arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf"`
		allow = `"Effect":"Allow","Action":"secretsmanager:GetSecretValue",` + res
	)
	doc := func(statements ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
	}
	trust := func(principal string) string {
		return doc(`{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}`)
	}
	tests := []struct {
		name      string
		kind      documentKind
		text      string
		iam       string // IAM's error message, or ok
		engineErr bool   // policy.Parse refuses it
		why       string // required when the two disagree
	}{
		{"minimal", identityPolicy, doc(`{` + allow + `}`), ok, false, ""},
		{"statement as an object", identityPolicy, `{"Version":"2012-10-17","Statement":{` + allow + `}}`, ok, false, ""},
		{"no version", identityPolicy, `{"Statement":[{` + allow + `}]}`, ok, false, ""},
		{"old version", identityPolicy, `{"Version":"2008-10-17","Statement":[{` + allow + `}]}`, ok, false, ""},
		{"bad version", identityPolicy, `{"Version":"2012-10-18","Statement":[{` + allow + `}]}`, "The policy must contain a valid version string", true, ""},
		{"not JSON", identityPolicy, `{"Version":`, "Syntax errors in policy.", true, ""},
		{"trailing data", identityPolicy, doc(`{`+allow+`}`) + `}`, "Syntax errors in policy.", true, ""},
		{"unknown top element", identityPolicy, `{"Version":"2012-10-17","Statements":[{` + allow + `}]}`, "Syntax errors in policy.", true, ""},
		{"element names are case-sensitive", identityPolicy, doc(`{"effect":"Allow","Action":"s3:GetObject",` + res + `}`), "Syntax errors in policy.", true, ""},
		{"unknown statement element", identityPolicy, doc(`{` + allow + `,"Actions":"x"}`), "Syntax errors in policy.", true, ""},
		{"duplicate key", identityPolicy, doc(`{` + allow + `,"Effect":"Deny"}`), "Syntax errors in policy.", true, ""},
		{"empty statement list", identityPolicy, `{"Version":"2012-10-17","Statement":[]}`, "Syntax errors in policy.", true, ""},
		{"missing statement", identityPolicy, `{"Version":"2012-10-17"}`, "Syntax errors in policy.", true, ""},
		{"effect Maybe", identityPolicy, doc(`{"Effect":"Maybe","Action":"s3:GetObject",` + res + `}`), "Syntax errors in policy.", true, ""},
		{"no action", identityPolicy, doc(`{"Effect":"Allow",` + res + `}`), "Policy statement must contain actions.", true, ""},
		{"empty action list", identityPolicy, doc(`{"Effect":"Allow","Action":[],` + res + `}`), "Policy statement must contain actions.", true, ""},
		{"Action and NotAction", identityPolicy, doc(`{` + allow + `,"NotAction":"s3:*"}`), "Syntax errors in policy.", true, ""},
		{"action list of a number", identityPolicy, doc(`{"Effect":"Allow","Action":[1],` + res + `}`), "Syntax errors in policy.", true, ""},
		{"no resource", identityPolicy, doc(`{"Effect":"Allow","Action":"s3:GetObject"}`), "Policy statement must contain resources.", false,
			"placement: whether a document needs a Resource depends on where it goes, which the engine decides when it synthesizes"},
		{"principal in an identity policy", identityPolicy, doc(`{` + allow + `,"Principal":"*"}`), "Policy document should not specify a principal.", false,
			"placement, as above"},
		{"duplicate Sid", identityPolicy, doc(`{"Sid":"A",`+allow+`}`, `{"Sid":"A",`+allow+`}`), "Statement IDs (SID) in a single policy must be unique.", true, ""},
		{"two empty Sids", identityPolicy, doc(`{"Sid":"",`+allow+`}`, `{"Sid":"",`+allow+`}`), ok, false, ""},
		{"Sid with a hyphen", identityPolicy, doc(`{"Sid":"read-secrets",` + allow + `}`),
			"Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*", false,
			"the engine's Sids are constants of the policy package, alphanumeric; TestEngineDocumentsPassIAMRules holds them to it"},
		{"action without a service", identityPolicy, doc(`{"Effect":"Allow","Action":"GetSecretValue",` + res + `}`),
			"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.", false,
			"the engine writes actions from constants; it does not check action syntax when reading"},
		{"action with two colons", identityPolicy, doc(`{"Effect":"Allow","Action":"s3:Get:Object",` + res + `}`), "Actions/Condition can contain only one colon.", false, "as above"},
		{"wildcard action", identityPolicy, doc(`{"Effect":"Allow","Action":"*",` + res + `}`), ok, false, ""},
		{"resource not an ARN", identityPolicy, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"my-bucket"}`), `Resource must be in ARN format or "*".`, false,
			"the engine writes only ARNs it builds; it does not check resource syntax when reading"},
		{"S3 ARN with empty region and account", identityPolicy, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*"}`), ok, false, ""},
		{"unknown condition operator", identityPolicy, doc(`{` + allow + `,"Condition":{"StringEqualz":{"aws:PrincipalTag/team":"a"}}}`), "Invalid Condition type : StringEqualz", true, ""},
		{"qualified condition operator", identityPolicy, doc(`{` + allow + `,"Condition":{"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":["a*"]}}}`), ok, false, ""},
		{"condition values of every scalar type", identityPolicy, doc(`{` + allow + `,"Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":10},"Null":{"aws:TagKeys":"false"}}}`), ok, false, ""},
		{"condition value an object", identityPolicy, doc(`{` + allow + `,"Condition":{"StringEquals":{"aws:username":{"a":"b"}}}}`), "Syntax errors in policy.", true, ""},
		{"URL-encoded", identityPolicy, `%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A*%22%2C%22Resource%22%3A%22*%22%7D%5D%7D`,
			"Syntax errors in policy.", false, "IAM's responses URL-encode documents and the engine reads those; requests carry JSON"},

		{"trust ec2", trustPolicy, trust(`{"Service":"ec2.amazonaws.com"}`), ok, false, ""},
		{"trust an account", trustPolicy, trust(`{"AWS":"111111111111"}`), ok, false, ""},
		{"trust a role ARN", trustPolicy, trust(`{"AWS":["arn:aws:iam::111111111111:role/ci","arn:aws:iam::111111111111:root"]}`), ok, false, ""},
		{"trust an OIDC provider", trustPolicy, doc(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}`), ok, false, ""},
		{"trust anyone", trustPolicy, trust(`"*"`), ok, false, ""},
		{"trust without a principal", trustPolicy, doc(`{"Effect":"Allow","Action":"sts:AssumeRole"}`), "AssumeRolepolicy contained an invalid principal.", false, "placement, as above"},
		{"trust with a resource", trustPolicy, doc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}`), "Has prohibited field Resource", false, "placement, as above"},
		{"trust grants another action", trustPolicy, doc(`{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject"}`),
			"Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity", false, "placement, as above"},
		{"principal type unknown", trustPolicy, trust(`{"Role":"web"}`), "Invalid principal in policy", true, ""},
		{"principal list empty", trustPolicy, trust(`{"AWS":[]}`), "Invalid principal in policy", true, ""},
		{"principal string not *", trustPolicy, trust(`"ec2.amazonaws.com"`), "Invalid principal in policy", true, ""},
		{"AWS principal a role name", trustPolicy, trust(`{"AWS":"web"}`), "Invalid principal in policy", false,
			"principal values come from the spec, which validates role ARNs and services itself (spec package)"},
		{"service principal not a DNS name", trustPolicy, trust(`{"Service":"EC2"}`), "Invalid principal in policy", false, "as above"},
		{"canonical user not hex", trustPolicy, trust(`{"CanonicalUser":"abc"}`), "Invalid principal in policy", false, "as above"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ok
			if err := checkDocument(tt.text, tt.kind); err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.iam) || (tt.iam == ok) != (got == ok) {
				t.Errorf("IAM rules: %q, want %q", got, tt.iam)
			}
			_, err := policy.Parse([]byte(tt.text))
			if (err != nil) != tt.engineErr {
				t.Errorf("policy.Parse error = %v, want error %v", err, tt.engineErr)
			}
			disagree := (tt.iam != ok) != tt.engineErr
			switch {
			case disagree && tt.why == "":
				t.Errorf("the engine and IAM's rules disagree (engine refuses: %v, IAM: %q) and nothing says why", tt.engineErr, tt.iam)
			case !disagree && tt.why != "":
				t.Errorf("the engine and IAM's rules now agree; drop the explanation %q", tt.why)
			}
		})
	}
}

// TestPolicySize pins the counting of both readings on the characters
// that decide it: JSON white space is not counted, anything else is, one
// per character.
func TestPolicySize(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want int
	}{
		{"empty", "", 0},
		{"JSON white space", " \t\n\r", 0},
		{"white space inside strings", `"a b"`, 4},
		{"characters, not bytes", `"é"`, 3},
		{"no-break space counts", "\u00a0", 1},
		{"next-line counts", "\u0085", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := policySize(tt.in); got != tt.want {
				t.Errorf("policySize(%q) = %d, want %d", tt.in, got, tt.want)
			}
			if got := policy.RawSize([]byte(tt.in)); got != tt.want {
				t.Errorf("policy.RawSize(%q) = %d, IAM counts %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestPolicyChars(t *testing.T) {
	for in, want := range map[string]bool{
		"{}\t\r\n":           true,
		"ÿ é":                true,
		"→":                  false,
		"\x00":               false,
		`"\u2192"`:           true, // escaped, so the text is ASCII
		string([]byte{0xff}): false,
	} {
		if got := policyChars(in); got != want {
			t.Errorf("policyChars(%q) = %v, want %v", in, got, want)
		}
	}
}
