package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	v1alpha1 "github.com/tenantry/tenantry/api/v1alpha1"
	"github.com/tenantry/tenantry/reconciler/render"
)

// RenderKey digests what rendering depends on besides the tenant, once per pass.
func RenderKey(o render.DesiredOptions) (string, error) {
	kinds := make([]string, 0, len(o.Templates))
	for k := range o.Templates {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	h := sha256.New()
	enc := json.NewEncoder(h)
	if err := enc.Encode([]any{o.HostAPI, o.VirtualClusters, o.VCluster, fmt.Sprint(o.TemplatesErr)}); err != nil {
		return "", fmt.Errorf("digesting the render options: %w", err)
	}
	for _, k := range kinds {
		if err := enc.Encode(o.Templates[k].Object); err != nil {
			return "", fmt.Errorf("digesting template %s: %w", k, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// InputKey digests one tenant's render inputs: the pass's render key and the tenant as
// loaded (defaults applied, its file's path in status.sourcePath). Equal keys render equal
// objects.
func InputKey(renderKey string, t *v1alpha1.Tenant) (string, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("digesting tenant %s: %w", t.Name, err)
	}
	h := sha256.New()
	h.Write([]byte(renderKey + "\x00"))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)), nil
}
