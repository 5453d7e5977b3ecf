//go:build !unix

package spec

import "os"

// openFlags: outside unix, opening a special file does not wait for a peer.
const openFlags = os.O_RDONLY
