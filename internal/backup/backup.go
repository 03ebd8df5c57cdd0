// Package backup saves and restores a virtual cluster's state at the store level: every key
// under /registry/ that kube-apiserver wrote to kine, through kine's etcd API.
package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Version names this file format.
const Version = "tenantry.dev/backup/v1"

// prefix is where kube-apiserver keeps every object; kine's own keys lie outside it.
const prefix = "/registry/"

// File is a backup: what kube-apiserver stored, key by key, at one revision.
type File struct {
	Version string `json:"version"`
	// Tenant and KubernetesVersion say whose virtual cluster this was.
	Tenant            string    `json:"tenant"`
	KubernetesVersion string    `json:"kubernetesVersion"`
	Created           time.Time `json:"created"`
	// Revision is the store revision the keys were read at.
	Revision int64   `json:"revision"`
	Entries  []Entry `json:"entries"`
}

// Entry is one stored object.
type Entry struct {
	Key   string `json:"key"`
	Value []byte `json:"value"`
}

// Save reads every key under /registry/ in one consistent read and returns the backup.
func Save(ctx context.Context, kv clientv3.KV) (*File, error) {
	resp, err := kv.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("reading the virtual cluster's store: %w", err)
	}
	f := &File{Version: Version, Revision: resp.Header.Revision, Entries: make([]Entry, 0, len(resp.Kvs))}
	for _, e := range resp.Kvs {
		f.Entries = append(f.Entries, Entry{Key: string(e.Key), Value: e.Value})
	}
	return f, nil
}

// Result counts what Restore did.
type Result struct {
	Created, Kept int
}

// Restore writes every entry whose key the store lacks, the way kube-apiserver creates an
// object (a transaction on the key's absence); a key present is kept as it is, so a restore
// into a running virtual cluster never overwrites what it holds. kube-apiserver's watch on
// the store serves the restored objects at once.
func Restore(ctx context.Context, kv clientv3.KV, f *File) (Result, error) {
	var r Result
	for _, e := range f.Entries {
		resp, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(e.Key), "=", 0)).
			Then(clientv3.OpPut(e.Key, string(e.Value))).Commit()
		if err != nil {
			return r, fmt.Errorf("restoring %s: %w", e.Key, err)
		}
		if resp.Succeeded {
			r.Created++
		} else {
			r.Kept++
		}
	}
	return r, nil
}

// Write writes f as JSON.
func Write(w io.Writer, f *File) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(f)
}

// Read reads a backup and checks its format.
func Read(r io.Reader) (*File, error) {
	var f File
	if err := json.NewDecoder(r).Decode(&f); err != nil {
		return nil, fmt.Errorf("reading the backup: %w", err)
	}
	if f.Version != Version {
		return nil, fmt.Errorf("reading the backup: version %q, want %q", f.Version, Version)
	}
	return &f, nil
}
