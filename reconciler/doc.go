// Package reconciler is the agent: it runs passes over the tenants repo through the stages (source, loader, render, plan, apply, status), checks drift on its own interval, and sends alerts and metrics.
package reconciler
