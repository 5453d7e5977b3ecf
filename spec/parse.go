package spec

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// chunkSize is the size from which a spec file is parsed in pieces of about
// this many bytes. hclsyntax lexes a whole file into one slice of tokens
// (about a hundred bytes each, full of pointers) before parsing it: for a
// generated stage of 10,000 secrets that is a 3 MB file, hundreds of MB of
// tokens grown by copying, which the garbage collector scans while they
// live. Pieces keep that slice small and parse on every core.
var chunkSize = 64 << 10

// parseFile parses src, the bytes of filename, as HCL native syntax. A file
// larger than chunkSize is cut before lines that start at column 1 with a
// letter, where a top-level block or argument may begin, and the pieces are
// parsed concurrently, each at its position in the file, then joined into
// one body. A cut in the middle of an item (an unindented block body, a
// heredoc, a comment, a multi-line expression) leaves a piece that does not
// parse on its own; then, and whenever any piece has a diagnostic or an
// argument appears in two pieces, the whole file is parsed at once, so
// diagnostics are always those of a parse of the whole file. A piece that
// parses without any diagnostic ends where HCL's lexer, reading the whole
// file, is between two top-level items, so the joined body is the one a
// parse of the whole file gives.
func parseFile(src []byte, filename string) (*hcl.File, hcl.Diagnostics) {
	if f := parseChunked(src, filename); f != nil {
		return f, nil
	}
	return hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
}

// parseChunked is parseFile's cut and concurrent parse; it returns nil when
// the file is not cut or a piece does not parse cleanly.
func parseChunked(src []byte, filename string) *hcl.File {
	starts := chunkStarts(src, chunkSize)
	if len(starts) < 2 {
		return nil
	}
	files := make([]*hcl.File, len(starts))
	var (
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, start := range starts {
		end := len(src)
		if i+1 < len(starts) {
			end = starts[i+1].Byte
		}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			if failed.Load() {
				return
			}
			f, diags := hclsyntax.ParseConfig(src[start.Byte:end], filename, start)
			if len(diags) > 0 {
				failed.Store(true)
				return
			}
			files[i] = f
		})
	}
	wg.Wait()
	if failed.Load() {
		return nil
	}
	// The first piece's body becomes the file's: its File.Nav points at it,
	// so diagnostics find the enclosing block of any position in the file.
	root := files[0].Body.(*hclsyntax.Body)
	for _, f := range files[1:] {
		body := f.Body.(*hclsyntax.Body)
		for name, attr := range body.Attributes {
			if _, dup := root.Attributes[name]; dup {
				return nil // the whole file's parse reports it
			}
			root.Attributes[name] = attr
		}
		root.Blocks = append(root.Blocks, body.Blocks...)
		root.SrcRange.End = body.SrcRange.End
		root.EndRange = body.EndRange
	}
	files[0].Bytes = src
	return files[0]
}

// chunkStarts returns where the pieces of src begin: the start of the file,
// then the first line starting with an ASCII letter at least size bytes
// after the previous start, and so on.
func chunkStarts(src []byte, size int) []hcl.Pos {
	starts := []hcl.Pos{hcl.InitialPos}
	line := 1
	for i, c := range src {
		if c != '\n' {
			continue
		}
		line++
		next := i + 1
		if next < len(src) && next-starts[len(starts)-1].Byte >= size && isASCIILetter(src[next]) {
			starts = append(starts, hcl.Pos{Line: line, Column: 1, Byte: next})
		}
	}
	return starts
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
