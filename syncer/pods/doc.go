// Package pods syncs pods: rewritten and policy-checked to the host, scheduling and status back.
package pods
