package bench

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"

	"github.com/tenantry/tenantry/internal/localcluster"
)

// vclusterLoadName is the vcluster the pod loads run in.
const vclusterLoadName = "bench-vc-load"

// vclusterLoad is the vcluster peer as a system the pod loads run in (loadSystem). Its
// image must be imported (the node runs do it).
type vclusterLoad struct {
	c    *localcluster.Cluster
	peer *vclusterPeer
}

func (v *vclusterLoad) system() string { return peerVCluster }

func (v *vclusterLoad) start(ctx context.Context) (loadTarget, error) {
	p, err := newVClusterPeer(v.c, vclusterLoadName)
	if err != nil {
		return loadTarget{}, err
	}
	v.peer = p
	if _, err := p.Start(ctx); err != nil {
		return loadTarget{}, err
	}
	virtual, err := loadClient(p.Virtual())
	if err != nil {
		return loadTarget{}, err
	}
	host, err := loadClient(v.c.Config)
	if err != nil {
		return loadTarget{}, err
	}
	return loadTarget{host: host, virtual: virtual, hostNS: p.HostNamespace(), node: standinNode, schedulerBinds: true, origin: vclusterOrigin}, nil
}

func (v *vclusterLoad) rss(ctx context.Context) (float64, error) { return v.peer.RSS(ctx) }

func (v *vclusterLoad) stop(ctx context.Context) error {
	if v.peer == nil {
		return errors.New("the vcluster was never started")
	}
	return v.peer.Stop(ctx)
}

// vclusterOrigin reads vcluster's marks on a host pod: the virtual pod's namespace and
// name in its annotations vcluster.loft.sh/object-namespace and object-name.
func vclusterOrigin(p *corev1.Pod) string {
	name := p.Annotations["vcluster.loft.sh/object-name"]
	if name == "" {
		return ""
	}
	return p.Annotations["vcluster.loft.sh/object-namespace"] + "/" + name
}
