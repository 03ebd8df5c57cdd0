package wellknown

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxNameLength is the longest host object name: a DNS-1123 label, which every kind accepts.
const maxNameLength = 63

// separator joins name, namespace and vcluster in the plain form of a host name.
const separator = "-x-"

// HostName is the host name of a virtual object: "<name>-x-<namespace>-x-<vcluster>",
// as vcluster names them. The plain form is used only when it is short enough for a DNS
// label and "<name>-x-<namespace>" contains the separator exactly once, so it can be read
// back unambiguously (Secret "db-x-prod" in "dev" and "db" in "prod-x-dev" would otherwise
// share one host name). Every other name is cut and suffixed with a hash over an
// unambiguous encoding of the three parts, so host names are injective.
func HostName(name, namespace, vcluster string) string {
	full := name + separator + namespace + separator + vcluster
	if len(full) <= maxNameLength && separators(full[:len(name)+len(separator)+len(namespace)]) == 1 {
		return full
	}
	sum := sha256.Sum256([]byte(name + "\x00" + namespace + "\x00" + vcluster))
	suffix := "-" + hex.EncodeToString(sum[:5])
	cut := full[:min(len(full), maxNameLength-len(suffix))]
	for len(cut) > 0 && (cut[len(cut)-1] == '-' || cut[len(cut)-1] == '.') {
		cut = cut[:len(cut)-1]
	}
	return cut + suffix
}

// separators counts the occurrences of the separator in s, overlapping ones included
// ("a-x-x-b" holds two).
func separators(s string) int {
	n := 0
	for i := 0; ; {
		j := strings.Index(s[i:], separator)
		if j < 0 {
			return n
		}
		n++
		i += j + 1
	}
}
