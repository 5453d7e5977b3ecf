package review

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/secretboot/secretboot/internal/atomicfile"
	"github.com/secretboot/secretboot/policy"
	"github.com/secretboot/secretboot/provision"
)

// Kind says which document a reviewer file holds.
type Kind string

// Kinds of reviewer files.
const (
	KindRead    Kind = "read"    // <role>.json
	KindManaged Kind = "managed" // <role>.managed-N.json
	KindTrust   Kind = "trust"   // <role>.trust.json
	// KindResource is a secret's resource policy, <secret>.resource.json,
	// the secret's spec label with "/" written as "~" (which secret names
	// cannot hold), so that a stage's files stay in one directory.
	KindResource Kind = "resource"
	// KindCrossAccount is the identity policy that the administrator of a
	// cross-account reader's account installs on that role,
	// <account>~<role name>.cross-account.json: secretboot does not write
	// in other accounts.
	KindCrossAccount Kind = "cross-account"
	// KindKeyPolicy holds the key-policy statements the owner of a customer
	// managed key adds for the cross-account readers of the secrets it
	// protects, <key id>.key-policy.json.
	KindKeyPolicy Kind = "key-policy"
)

// File is one reviewer file of a stage.
type File struct {
	Name string // file name inside <dir>/<stage>
	Role string // role key; for KindResource the secret's key, for KindCrossAccount the file's name stem, for KindKeyPolicy the key ID
	Kind Kind
	Doc  *policy.Document
}

// Files lists the reviewer files for the given role documents and secrets,
// sorted by name. A role that reads nothing has no read file; an external
// role has no trust file; a secret has a resource file when it opts in to
// a resource policy; a cross-account reader has the files of the other
// side (crossAccountFiles).
func Files(docs []provision.RoleDocuments, secrets []provision.SecretRef) []File {
	var out []File
	for _, s := range secrets {
		if s.Resource != nil {
			out = append(out, File{Name: strings.ReplaceAll(s.Key, "/", "~") + resourceSuffix, Role: s.Key, Kind: KindResource, Doc: s.Resource})
		}
	}
	out = append(out, crossAccountFiles(secrets)...)
	for _, rd := range docs {
		switch {
		case rd.Read == nil:
		case rd.Layout.Managed != nil:
			for i, d := range rd.Layout.Managed {
				out = append(out, File{Name: fmt.Sprintf("%s.managed-%d.json", rd.Key, i+1), Role: rd.Key, Kind: KindManaged, Doc: d})
			}
		default:
			out = append(out, File{Name: rd.Key + ".json", Role: rd.Key, Kind: KindRead, Doc: rd.Read})
		}
		if rd.Trust != nil {
			out = append(out, File{Name: rd.Key + ".trust.json", Role: rd.Key, Kind: KindTrust, Doc: rd.Trust})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Problem is how a file on disk differs from what the spec says.
type Problem string

// Problems.
const (
	Missing Problem = "missing" // the spec calls for the file; it is not on disk
	Changed Problem = "changed" // the file's bytes differ
	Extra   Problem = "extra"   // the file is on disk; the spec has no such document
)

// Stale is a reviewer file that does not match the spec.
type Stale struct {
	Path    string // <dir>/<stage>/<name>
	Problem Problem
	Role    string // role key the file belongs to
	Kind    Kind
	// Unparsable is set when the file on disk is not a policy document; its
	// grants then count as none.
	Unparsable bool
	// Grants are what updating the file would change: Added grants are in
	// the spec's document and not in the file. An added grant Broadens
	// when no file of the same role and kind already grants it, so a
	// grant that only moved between managed parts does not.
	Grants []policy.GrantChange
}

// Broadens reports whether the spec grants more than the file on disk
// shows: the reviewed file understates access.
func (s Stale) Broadens() bool {
	for _, g := range s.Grants {
		if g.Broadens {
			return true
		}
	}
	return false
}

// Write makes <dir>/<stage> hold exactly the stage's reviewer files: it
// writes every file whose bytes differ (atomically, mode 0644), removes
// other *.json files there, and returns the paths of all the stage's
// files, sorted. Files that are already current are not rewritten. The
// masks, in order, rewrite each file's bytes before it is written (see
// provision.Mask).
func Write(dir, stage string, docs []provision.RoleDocuments, secrets []provision.SecretRef, masks ...provision.Mask) ([]string, error) {
	stageDir := filepath.Join(dir, stage)
	if err := os.MkdirAll(stageDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating policy directory: %w", err)
	}
	stale, err := Check(dir, stage, docs, secrets)
	if err != nil {
		return nil, err
	}
	want := map[string][]byte{}
	var paths []string
	for _, f := range Files(docs, secrets) {
		p := filepath.Join(stageDir, f.Name)
		want[p] = f.Doc.Canonical()
		paths = append(paths, p)
	}
	for _, s := range stale {
		if s.Problem == Extra {
			if err := os.Remove(s.Path); err != nil {
				return nil, fmt.Errorf("removing stale policy file: %w", err)
			}
			continue
		}
		b := want[s.Path]
		for _, m := range masks {
			b = m(b)
		}
		if err := writeFile(s.Path, b); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// writeFile replaces path atomically, so a reviewer or a concurrent check
// never sees half a document.
func writeFile(path string, b []byte) error {
	if err := atomicfile.Write(path, b, 0o644); err != nil {
		return fmt.Errorf("writing policy file %s: %w", path, err)
	}
	return nil
}

// Check compares <dir>/<stage> with the stage's reviewer files and returns
// the stale ones, sorted by path: missing, changed and extra *.json files,
// each with the grants that updating it would add or remove. A missing
// directory means every file is missing. Only I/O failures are errors.
func Check(dir, stage string, docs []provision.RoleDocuments, secrets []provision.SecretRef) ([]Stale, error) {
	stageDir := filepath.Join(dir, stage)
	onDisk, err := readDir(stageDir)
	if err != nil {
		return nil, err
	}
	want := map[string]File{}
	for _, f := range Files(docs, secrets) {
		want[f.Name] = f
	}

	// Documents per role and kind, old (disk) and new (spec), so that
	// broadening is judged against everything a role's files grant: a
	// grant that moves between managed parts, or from inline to managed,
	// is no broadening.
	type group struct {
		role     string
		trust    bool
		resource bool // a secret's, which may share a role's key
	}
	kindOf := func(name string) (string, Kind) {
		if f, ok := want[name]; ok {
			return f.Role, f.Kind
		}
		return parseName(name)
	}
	groupOf := func(name string) group {
		role, kind := kindOf(name)
		return group{role, kind == KindTrust, kind == KindResource}
	}
	oldDocs, newDocs := map[group][]*policy.Document{}, map[group][]*policy.Document{}
	parsed := map[string]*policy.Document{}
	unparsable := map[string]bool{}
	for name, b := range onDisk {
		d, err := policy.Parse(b)
		if err != nil {
			unparsable[name] = true
			continue
		}
		parsed[name] = d
		g := groupOf(name)
		oldDocs[g] = append(oldDocs[g], d)
	}
	for name, f := range want {
		g := groupOf(name)
		newDocs[g] = append(newDocs[g], f.Doc)
	}
	broadening := map[group]map[policy.GrantChange]bool{}
	broadens := func(g group, c policy.GrantChange) bool {
		if broadening[g] == nil {
			broadening[g] = map[policy.GrantChange]bool{}
			for _, gc := range policy.DiffGrants(oldDocs[g], newDocs[g]) {
				if gc.Broadens {
					broadening[g][gc] = true
				}
			}
		}
		return broadening[g][c]
	}

	var out []Stale
	names := map[string]bool{}
	for name := range onDisk {
		names[name] = true
	}
	for name := range want {
		names[name] = true
	}
	for name := range names {
		b, exists := onDisk[name]
		f, wanted := want[name]
		var s Stale
		var newDoc *policy.Document
		switch {
		case !exists:
			s.Problem, newDoc = Missing, f.Doc
		case !wanted:
			s.Problem = Extra
		case !bytes.Equal(b, f.Doc.Canonical()):
			s.Problem, newDoc = Changed, f.Doc
		default:
			continue
		}
		g := groupOf(name)
		s.Path, s.Unparsable = filepath.Join(stageDir, name), unparsable[name]
		s.Role, s.Kind = kindOf(name)
		if s.Kind == KindResource {
			// A resource policy denies; it grants nothing to diff.
			out = append(out, s)
			continue
		}
		for _, c := range policy.DiffGrants([]*policy.Document{parsed[name]}, []*policy.Document{newDoc}) {
			if c.Added {
				c.Broadens = broadens(g, c)
			}
			s.Grants = append(s.Grants, c)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// readDir returns the *.json files of a stage directory by name; none when
// it does not exist. Subdirectories and other files are not reviewer files
// and are left alone.
func readDir(stageDir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(stageDir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string][]byte{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading policy directory: %w", err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(stageDir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading policy file: %w", err)
		}
		out[e.Name()] = b
	}
	return out, nil
}

var managedName = regexp.MustCompile(`^(.*)\.managed-[0-9]+$`)

const (
	resourceSuffix     = ".resource.json"
	crossAccountSuffix = ".cross-account.json"
	keyPolicySuffix    = ".key-policy.json"
)

// crossAccountFiles are what the other side of each cross-account reader
// installs, since secretboot writes in the stage's account only: per
// reader role, its identity policy (GetSecretValue on exactly its
// secrets, kms:Decrypt of their keys through Secrets Manager for exactly
// those secrets: policy.ReadPolicy, as for a reader of the stage's
// account), and per customer managed key, the key-policy statements that
// let those roles decrypt (policy.KeyPolicyReaders). A replicated
// secret's replicas are read too (the resource policy travels with them):
// each replica's ARN, decrypted with the replica's key in its region.
func crossAccountFiles(secrets []provision.SecretRef) []File {
	grants := map[string][]policy.Grant{}
	keys := map[string]map[string][]string{} // key ARN → role ARN → secret ARNs
	region := ""
	for _, s := range secrets {
		for _, r := range s.CrossAccountReaders {
			region = arnField(s.ARN, 3)
			copies := []policy.Grant{{SecretARN: s.ARN, KMSKeyARN: s.KMSKeyARN}}
			for _, rep := range s.Replicas {
				copies = append(copies, policy.Grant{SecretARN: provision.ReplicaARN(s.ARN, rep.Region), KMSKeyARN: rep.KMSKeyARN, Region: rep.Region})
			}
			grants[r] = append(grants[r], copies...)
			for _, g := range copies {
				if g.KMSKeyARN == "" {
					continue
				}
				if keys[g.KMSKeyARN] == nil {
					keys[g.KMSKeyARN] = map[string][]string{}
				}
				keys[g.KMSKeyARN][r] = append(keys[g.KMSKeyARN][r], g.SecretARN)
			}
		}
	}
	var out []File
	for r, g := range grants {
		stem := arnField(r, 4) + "~" + r[strings.LastIndex(r, "/")+1:]
		out = append(out, File{Name: stem + crossAccountSuffix, Role: stem, Kind: KindCrossAccount, Doc: policy.ReadPolicy(region, g)})
	}
	for k, readers := range keys {
		id := k[strings.LastIndex(k, "/")+1:]
		// A key is regional: Secrets Manager of its region uses it.
		out = append(out, File{Name: id + keyPolicySuffix, Role: id, Kind: KindKeyPolicy, Doc: policy.KeyPolicyReaders(arnField(k, 3), readers)})
	}
	return out
}

// arnField is the i-th colon-separated field of an ARN (3 the region, 4
// the account), or "".
func arnField(arn string, i int) string {
	f := strings.SplitN(arn, ":", 6)
	if i >= len(f) {
		return ""
	}
	return f[i]
}

// parseName tells the role and kind of a file name that no current
// document claims (a file left over from an earlier spec).
func parseName(name string) (role string, kind Kind) {
	if sec, ok := strings.CutSuffix(name, resourceSuffix); ok {
		return strings.ReplaceAll(sec, "~", "/"), KindResource
	}
	if stem, ok := strings.CutSuffix(name, crossAccountSuffix); ok {
		return stem, KindCrossAccount
	}
	if id, ok := strings.CutSuffix(name, keyPolicySuffix); ok {
		return id, KindKeyPolicy
	}
	base := strings.TrimSuffix(name, ".json")
	if r, ok := strings.CutSuffix(base, ".trust"); ok {
		return r, KindTrust
	}
	if m := managedName.FindStringSubmatch(base); m != nil {
		return m[1], KindManaged
	}
	return base, KindRead
}
