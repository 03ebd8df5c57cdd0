package vcluster_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/backup"
	"github.com/tenantry/tenantry/test/framework"
)

// TestBackupRestoreThroughKine saves a real virtual control plane's store through kine's
// etcd API, deletes an object, restores and reads it back through the virtual API server
// (its watch on kine serves the restored key); a second restore writes nothing.
func TestBackupRestoreThroughKine(t *testing.T) {
	ctx := context.Background()
	v := newVCluster(t, "v1.37.2", nil)
	v.start()
	v.waitReady()
	virtual := v.virtual(wellknown.SecretKeyConfigLocal)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if _, err := virtual.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:" + strconv.Itoa(v.cfg.KinePort)}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = etcd.Close() }()
	f, err := backup.Save(ctx, etcd)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := backup.Write(&buf, f); err != nil {
		t.Fatal(err)
	}
	if f, err = backup.Read(&buf); err != nil {
		t.Fatal(err)
	}
	if !hasKey(f, "/registry/configmaps/default/kept") {
		t.Fatalf("the backup of %d keys lacks the ConfigMap", len(f.Entries))
	}
	if err := virtual.CoreV1().ConfigMaps("default").Delete(ctx, "kept", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	r, err := backup.Restore(ctx, etcd, f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Created != 1 || r.Kept != len(f.Entries)-1 {
		t.Fatalf("restore %+v, want the one deleted key created and the other %d kept", r, len(f.Entries)-1)
	}
	framework.Eventually(t, 30*time.Second, "the restored ConfigMap served", func() (bool, error) {
		got, err := virtual.CoreV1().ConfigMaps("default").Get(ctx, "kept", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && got.Data["k"] == "v", err
	})
	if r, err := backup.Restore(ctx, etcd, f); err != nil || r.Created != 0 {
		t.Fatalf("a second restore: %+v, %v; want nothing created", r, err)
	}
}

func hasKey(f *backup.File, key string) bool {
	for _, e := range f.Entries {
		if e.Key == key {
			return true
		}
	}
	return false
}
