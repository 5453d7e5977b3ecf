package spec

import "github.com/zclconf/go-cty/cty"

// marker is the type of the cty marks this package sets, so they cannot
// collide with marks of other packages.
type marker string

// sensitive marks every value that comes from env, file or filebase64 and
// everything computed from such a value. HCL's diagnostic writer skips marked
// values, and the function wrapper hides errors caused by them.
const sensitive = marker("sensitive")

// isSensitive reports whether v or anything inside it is marked sensitive.
func isSensitive(v cty.Value) bool { return v.HasMarkDeep(sensitive) }

// sensitivePaths unmarks v deeply and returns it with the paths that carried
// the sensitive mark.
func sensitivePaths(v cty.Value) (cty.Value, []cty.Path) {
	u, pvm := v.UnmarkDeepWithPaths()
	var paths []cty.Path
	for _, pm := range pvm {
		if _, ok := pm.Marks[sensitive]; ok {
			paths = append(paths, pm.Path)
		}
	}
	return u, paths
}

// underAny reports whether p equals or lies below one of the prefixes.
func underAny(p cty.Path, prefixes []cty.Path) bool {
	for _, pre := range prefixes {
		if len(pre) <= len(p) && pre.Equals(p[:len(pre)]) {
			return true
		}
	}
	return false
}
