//go:build unix

package spec

import (
	"os"
	"syscall"
)

// openFlags open without blocking (a FIFO swapped in after the type check
// would otherwise wait for a writer) and without acquiring a terminal.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_NOCTTY
