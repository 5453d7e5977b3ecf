package spec

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// readPayloadFile reads the file that file() or filebase64() names: path
// as written in the spec, relative to dir unless absolute. Only a regular
// file (or a symlink to one) is read, and at most maxPayload bytes of it:
// a FIFO would block the evaluation forever, a device such as /dev/zero
// would never end, and nothing larger fits in a secret anyway. outside is
// the resolved path when the file lies outside dir, for a warning.
//
// Evaluation has no context to cancel; this bound is the guarantee instead:
// the type is checked before the file is opened, the open cannot block
// (openFlags), and the read of a regular file ends after maxPayload+1
// bytes.
func readPayloadFile(dir, path string) (data []byte, outside string, err error) {
	full := path
	if !filepath.IsAbs(path) {
		full = filepath.Join(dir, path)
	}
	link, err := os.Lstat(full)
	if err != nil {
		return nil, "", readError(path, err)
	}
	target, err := os.Stat(full)
	if err != nil {
		return nil, "", readError(path, err) // a dangling symlink
	}
	if !target.Mode().IsRegular() {
		what := fileKind(target.Mode())
		if link.Mode()&fs.ModeSymlink != 0 {
			what = "a symlink to " + what
		}
		return nil, "", sourceErrorf("%s is %s, not a regular file", path, what)
	}
	outside = outsideDir(dir, full, filepath.IsAbs(path))
	f, err := os.OpenFile(full, openFlags, 0)
	if err != nil {
		return nil, "", readError(path, err)
	}
	defer f.Close()
	// Between the Stat and the open the path may have been replaced.
	opened, err := f.Stat()
	if err != nil {
		return nil, "", readError(path, err)
	}
	if !opened.Mode().IsRegular() || !os.SameFile(target, opened) {
		return nil, "", sourceErrorf("%s changed while it was being opened", path)
	}
	data, err = io.ReadAll(io.LimitReader(f, maxPayload+1))
	if err != nil {
		return nil, "", readError(path, err)
	}
	if len(data) > maxPayload {
		return nil, "", sourceErrorf("%s is larger than 65,536 bytes, the most a secret can hold", path)
	}
	return data, outside, nil
}

// readError words an error of the file system without repeating the path
// in the spelling of the operating system.
func readError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return sourceErrorf("cannot read %s: %v", path, err)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "not a regular file"
	}
}

// outsideDir returns the resolved path of full when it lies outside dir
// (symlinks of both resolved), or when it was written as an absolute path;
// "" otherwise.
func outsideDir(dir, full string, abs bool) string {
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		resolved = full
	}
	if resolved, err = filepath.Abs(resolved); err != nil {
		resolved = full
	}
	base, err := filepath.EvalSymlinks(dir)
	if err != nil {
		base = dir
	}
	if base, err = filepath.Abs(base); err != nil {
		base = dir
	}
	rel, err := filepath.Rel(base, resolved)
	if abs || err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return resolved
	}
	return ""
}
