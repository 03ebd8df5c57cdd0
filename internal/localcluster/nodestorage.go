package localcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// NodeStorageClass is the node's default StorageClass: volumes are directories on the
// node's disk, made by the test bed's provisioner (the role local-path-provisioner plays
// on kind).
const NodeStorageClass = "node-local"

// nodeProvisioner names the volumes the test bed provisions.
const nodeProvisioner = "tenantry.test/node-local"

// startNodeStorage creates the default StorageClass and runs the provisioner until stop.
func (c *Cluster) startNodeStorage(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("node storage: %w", err)
	}
	sc := &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: NodeStorageClass, Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: nodeProvisioner,
	}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass %s: %w", NodeStorageClass, err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c.stopStorage = cancel
	p := &provisioner{cs: cs, dir: c.path("volumes")}
	go p.run(runCtx)
	return nil
}

// provisioner gives each pending claim of NodeStorageClass a hostPath PV bound to it,
// and removes Released volumes it made, with their directories.
type provisioner struct {
	cs  kubernetes.Interface
	dir string
}

func (p *provisioner) run(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		p.provision(ctx)
		p.release(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *provisioner) provision(ctx context.Context) {
	claims, err := p.cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range claims.Items {
		pvc := &claims.Items[i]
		if pvc.Spec.VolumeName == "" && pvc.Spec.StorageClassName != nil && *pvc.Spec.StorageClassName == NodeStorageClass {
			_ = p.create(ctx, pvc)
		}
	}
}

// create makes the claim's directory (writable by any user: pods run as non-root) and
// its PV, pre-bound through claimRef.
func (p *provisioner) create(ctx context.Context, pvc *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(pvc.UID)
	dir := filepath.Join(p.dir, name)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return err
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": nodeProvisioner}},
		Spec: corev1.PersistentVolumeSpec{
			StorageClassName: NodeStorageClass, AccessModes: pvc.Spec.AccessModes,
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: pvc.Spec.Resources.Requests[corev1.ResourceStorage]},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: dir}},
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: pvc.Namespace, Name: pvc.Name, UID: pvc.UID},
		},
	}
	_, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// release deletes the Released volumes this provisioner made, and their data.
func (p *provisioner) release(ctx context.Context) {
	pvs, err := p.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pv := range pvs.Items {
		if pv.Annotations["pv.kubernetes.io/provisioned-by"] != nodeProvisioner || pv.Status.Phase != corev1.VolumeReleased {
			continue
		}
		if err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err == nil {
			_ = os.RemoveAll(filepath.Join(p.dir, pv.Name))
		}
	}
}
