// Package translate maps virtual object names, labels, annotations and selectors to the host.
package translate
