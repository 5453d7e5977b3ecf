package provision

import (
	"sync"
	"testing"
)

// Tokens and marks are stored in AWS (version ids, the mark tag): a change
// to how they are computed would make every secret of every stage look
// changed outside secretboot. These values were computed by the first
// implementation, which made a new HMAC for every token.
func TestTokensAreStable(t *testing.T) {
	d := desired()
	obj, str := d.Secrets[0], d.Secrets[1]
	tests := []struct {
		name, got, want string
	}{
		{"object, generation 0", versionToken(testKey, d, obj, 0), "db330137-e878-8489-a3c6-79bd014a487d"},
		{"string, generation 0", versionToken(testKey, d, str, 0), "b252edae-2db2-8429-80eb-011dee99e4d6"},
		{"object, generation 3, revision 2", revisionToken(testKey, d, obj, 3, 2), "e039ecf6-bbaf-8b32-8414-d5d191c5e899"},
		{"string, revision 15", revisionToken(testKey, d, str, 0, 15), "dfdd2e47-4b5a-8515-9f3a-68ba7d02548e"},
		{"owner mark", ownerMark(testKey, d, str.Name, arnOf(str.Name)), "4531762920d80917c430fb643a165e09"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: token %s, want %s", tt.name, tt.got, tt.want)
		}
	}
}

// The HMACs are pooled per key; goroutines checking tokens under
// different keys at once must each get their own key's answers.
func TestTokensUnderConcurrentKeys(t *testing.T) {
	d := desired()
	s := d.Secrets[0]
	keys := [][]byte{testKey, []byte("another key 0123456789abcdef0123")}
	want := map[string][]string{}
	for _, k := range keys {
		for rev := range 4 {
			want[string(k)] = append(want[string(k)], revisionToken(k, d, s, 1, rev))
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		key, other := keys[g%2], keys[(g+1)%2]
		wg.Go(func() {
			for range 50 {
				for rev, tok := range want[string(key)] {
					if got, ok := tokenRevision(key, d, s, 1, tok); !ok || got != rev {
						t.Errorf("revision %d under its key: got %d, %v", rev, got, ok)
					}
					if _, ok := tokenRevision(other, d, s, 1, tok); ok {
						t.Errorf("revision %d recognised under another key", rev)
					}
					if _, ok := tokenRevision(key, d, s, 2, tok); ok {
						t.Errorf("revision %d recognised at another generation", rev)
					}
				}
			}
		})
	}
	wg.Wait()
}
