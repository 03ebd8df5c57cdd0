package localcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// imagePollInterval is how often WatchImages looks for new tarballs.
const imagePollInterval = 5 * time.Second

// WatchImages imports into the node every image tarball that appears or changes in dir
// after the node started, until ctx ends: `make dev` starts before the older Kubernetes
// version's virtual cluster image is built, and builds it in the background. Pods of the
// node that gave up on an image it did not have yet (ErrImageNeverPull) are deleted once
// an image arrives, so their controllers recreate them at once instead of after the
// kubelet's back-off.
func (c *Cluster) WatchImages(ctx context.Context, dir string) error {
	if c.node == nil {
		return errors.New("watching images: the cluster has no node")
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("watching images: %w", err)
	}
	if dir, err = filepath.Abs(dir); err != nil { // the node imported bin/images by absolute path
		return fmt.Errorf("watching images: %w", err)
	}
	log := logr.FromContextOrDiscard(ctx)
	t := time.NewTicker(imagePollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		imported, err := c.node.importChanged(ctx, dir)
		for _, p := range imported {
			log.Info("image imported into the node", "tarball", p)
		}
		if err != nil && ctx.Err() == nil {
			log.Error(err, "importing an image into the node")
		}
		if len(imported) > 0 {
			restartImageless(ctx, cs, log)
		}
	}
}

// importChanged imports the tarballs in dir that are newer than when the node last
// imported them, and returns those imported.
func (n *node) importChanged(ctx context.Context, dir string) ([]string, error) {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	var done []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.ModTime().After(n.imported[p]) {
			continue
		}
		if err := n.importImages(ctx, []string{p}); err != nil {
			return done, err
		}
		done = append(done, p)
	}
	return done, nil
}

// restartImageless deletes the pods waiting on an image the node did not have.
func restartImageless(ctx context.Context, cs kubernetes.Interface, log logr.Logger) {
	pods, err := cs.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + NodeName})
	if err != nil {
		log.Error(err, "listing the node's pods")
		return
	}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !waitingForImage(p) {
			continue
		}
		if err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{}); err != nil {
			log.Error(err, "restarting a pod that lacked its image", "pod", p.Namespace+"/"+p.Name)
			continue
		}
		log.Info("restarted a pod that lacked its image", "pod", p.Namespace+"/"+p.Name)
	}
}

func waitingForImage(p *corev1.Pod) bool {
	for _, s := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := s.State.Waiting; w != nil && w.Reason == "ErrImageNeverPull" {
			return true
		}
	}
	return false
}
