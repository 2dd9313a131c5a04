package inventory

import (
	"fmt"
	"strings"
)

// namespace is the set of paths of one root (an archive, a directory target, the final
// filesystem of an image), for checking links against it.
type namespace struct {
	fsRoot    bool
	files     map[string]*node  // name → last entry with that name
	links     map[string]string // name → symbolic link target, as stored
	linkNodes map[string]*node
}

func newNamespace(fsRoot bool) *namespace {
	return &namespace{fsRoot: fsRoot, files: map[string]*node{}, links: map[string]string{}, linkNodes: map[string]*node{}}
}

func (ns *namespace) add(n *node) {
	ns.files[n.name] = n
	if n.Type == "symlink" {
		ns.links[n.name] = n.LinkTarget
		ns.linkNodes[n.name] = n
	} else {
		delete(ns.links, n.name)
		delete(ns.linkNodes, n.name)
	}
}

// symlinkAncestor returns the first proper ancestor of name that is a symbolic link.
func (ns *namespace) symlinkAncestor(name string) string {
	if len(ns.links) == 0 {
		return ""
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			if _, ok := ns.links[name[:i]]; ok {
				return name[:i]
			}
		}
	}
	return ""
}

// resolve follows the symbolic links in name within the namespace, the way the kernel
// does inside a chroot: absolute targets start from the root and .. stops at the root.
func (ns *namespace) resolve(name string, maxHops int) (string, error) {
	todo := split(name)
	var cur []string
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(cur) > 0 {
				cur = cur[:len(cur)-1]
			} else if !ns.fsRoot {
				return "", nil
			}
			continue
		}
		cand := strings.Join(append(cur, c), "/")
		if t, ok := ns.links[cand]; ok {
			hops++
			if hops > maxHops {
				return "", fmt.Errorf("symbolic link loop: %s does not resolve within %d links (raise --limit symlink-hops=N if the chain is real)", name, maxHops)
			}
			if isAbs(t) {
				if !ns.fsRoot {
					// outside the delivery: reported when the link was read
					return "", nil
				}
				cur = cur[:0]
			}
			todo = append(split(t), todo...)
			continue
		}
		cur = append(cur, c)
	}
	return strings.Join(cur, "/"), nil
}

func split(p string) []string { return strings.Split(strings.ReplaceAll(p, `\x5c`, "/"), "/") }

// isAbs reports whether a link target is absolute, in Unix or Windows spelling.
func isAbs(t string) bool {
	if strings.HasPrefix(t, "/") || strings.HasPrefix(t, `\x5c`) {
		return true
	}
	return len(t) >= 2 && t[1] == ':' && (t[0]|0x20 >= 'a' && t[0]|0x20 <= 'z')
}

// climbsAboveRoot reports whether the relative link target of the link at name goes
// above the root of its namespace.
func climbsAboveRoot(name, target string) bool {
	depth := strings.Count(name, "/") // the link's directory depth
	for _, c := range split(target) {
		switch c {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}
