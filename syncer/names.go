package syncer

import "github.com/tenantry/tenantry/syncer/translate"

// HostName is the host name of a virtual object: "<name>-x-<namespace>-x-<vcluster>",
// as vcluster names them. Names longer than a DNS label are cut and suffixed with a
// hash of the full name, so they stay unique and valid.
func HostName(name, namespace, vcluster string) string {
	return translate.HostName(name, namespace, vcluster)
}
