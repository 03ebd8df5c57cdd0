// Package source fetches the tenants repo with go-git and tracks its revision.
//
// A Source clones the configured Git reference into a fresh directory,
// checks it out, and atomically switches the last good artifact to it. Later
// fetches first list the remote references (an ls-remote) and skip the
// download when the tracked reference has not moved. When any step fails the
// previous checkout stays on disk, untouched, and LastGood keeps returning it.
// A commit holding a symlink that resolves outside its checkout is refused.
//
// Supported URLs are https:// and http:// (basic or bearer-token auth),
// ssh:// and scp-style user@host:path (public-key auth, host keys always
// verified against known_hosts), and file:// or local paths. The library
// itself never runs the git binary; note that go-git's own file:// transport
// spawns git-upload-pack, so local URLs need it on PATH.
package source
