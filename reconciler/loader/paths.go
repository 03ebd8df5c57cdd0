package loader

import (
	"strconv"
	"strings"
)

// child returns the path of a field or map key under parent: "spec" + "quota" = "spec.quota".
func child(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// index returns the path of a list item: "spec.owners" + 1 = "spec.owners[1]".
func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// parentPath strips the last element of a path; the root's parent is the root.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// isWithin reports whether path is ancestor itself or lies under it (the root holds every path).
func isWithin(path, ancestor string) bool {
	if ancestor == "" || path == ancestor {
		return true
	}
	return strings.HasPrefix(path, ancestor+".") || strings.HasPrefix(path, ancestor+"[")
}

// lineIndex maps field paths to the line where each is written.
type lineIndex map[string]int

// at returns the line of path, or of its closest written parent (0 when none is known).
func (l lineIndex) at(path string) int {
	for {
		if n, ok := l[path]; ok {
			return n
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}
