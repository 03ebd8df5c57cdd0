// +k8s:deepcopy-gen=package

// Package v1alpha1 defines the Tenant kind (tenantry.dev/v1alpha1): the tenant file format and the host-side mirror.
package v1alpha1
