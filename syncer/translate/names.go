package translate

import (
	"crypto/sha256"
	"encoding/hex"
)

// maxNameLength is the longest host object name: a DNS-1123 label, which every kind accepts.
const maxNameLength = 63

// HostName is the host name of a virtual object: "<name>-x-<namespace>-x-<vcluster>",
// as vcluster names them. Names longer than a DNS label are cut and suffixed with a
// hash of the full name, so they stay unique and valid.
func HostName(name, namespace, vcluster string) string {
	full := name + "-x-" + namespace + "-x-" + vcluster
	if len(full) <= maxNameLength {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	cut := full[:maxNameLength-len(suffix)]
	for len(cut) > 0 && (cut[len(cut)-1] == '-' || cut[len(cut)-1] == '.') {
		cut = cut[:len(cut)-1]
	}
	return cut + suffix
}
