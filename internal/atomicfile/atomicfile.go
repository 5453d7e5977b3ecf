// Package atomicfile replaces files whole, for everything secretboot writes
// that someone may read at the same moment or that a crash must not
// truncate: formatted spec files, saved plans, reviewer policy files and
// the sandbox's state.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
)

// Write replaces path with data: it writes a temporary file beside path
// (named <base>.<random>.tmp, created 0600 so that no one else can read it
// meanwhile), flushes it to disk, gives it perm and renames it over path.
// A reader sees the old content or the new one, never a part of either;
// on error the temporary file is removed and path is untouched.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	merr := tmp.Chmod(perm)
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, merr, cerr); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
