// Package kubeletapi serves the kubelet API (logs, exec, attach, port-forward) to the virtual API server from the host API.
package kubeletapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/syncer/translate"
)

// Handler serves the kubelet API the virtual API server calls for a virtual pod from the
// pod's host copy, through the host API: GET /containerLogs/{namespace}/{pod}/{container}
// from pods/log, and the upgraded streams /exec, /attach and /portForward through
// pods/exec, pods/attach and pods/portforward. Each request first checks that the host pod
// of that name is this syncer's copy of that virtual pod.
type Handler struct {
	host    kubernetes.Interface
	streams *streamProxy
	pods    translate.Translator
	log     logr.Logger
}

// New is the Handler for the virtual cluster vcluster whose host copies live in
// hostNamespace, reached with the host config cfg.
func New(cfg *rest.Config, hostNamespace, vcluster string, log logr.Logger) (*Handler, error) {
	host, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubelet API: host client: %w", err)
	}
	streams, err := newStreamProxy(cfg)
	if err != nil {
		return nil, err
	}
	return &Handler{host: host, streams: streams, pods: translate.Translator{VCluster: vcluster, HostNamespace: hostNamespace}, log: log}, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if slices.Contains(parts, "") {
		http.NotFound(w, r)
		return
	}
	if sub, ok := streams[parts[0]]; ok {
		h.stream(w, r, parts, sub)
		return
	}
	switch {
	case parts[0] != "containerLogs" || len(parts) != 4:
		http.NotFound(w, r)
	case r.Method != http.MethodGet:
		http.Error(w, "only GET is supported", http.StatusMethodNotAllowed)
	default:
		h.logs(w, r, parts[1], parts[2], parts[3])
	}
}

func (h *Handler) stream(w http.ResponseWriter, r *http.Request, parts []string, subresource string) {
	req, ok := parseStream(parts)
	if !ok {
		http.NotFound(w, r)
		return
	}
	name, err := h.hostPod(r.Context(), req.namespace, req.pod, req.uid)
	if err != nil {
		http.Error(w, err.Error(), hostStatus(err))
		return
	}
	h.streams.serve(w, r, h.pods.HostNamespace, name, subresource, req.hostQuery(r.URL.Query()), h.log)
}

func (h *Handler) logs(w http.ResponseWriter, r *http.Request, namespace, pod, container string) {
	opts, err := LogOptions(r, container)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name, err := h.hostPod(r.Context(), namespace, pod, "")
	if err != nil {
		http.Error(w, err.Error(), hostStatus(err))
		return
	}
	stream, err := h.host.CoreV1().Pods(h.pods.HostNamespace).GetLogs(name, opts).Stream(r.Context())
	if err != nil {
		http.Error(w, fmt.Sprintf("host pod %s/%s: %v", h.pods.HostNamespace, name, err), hostStatus(err))
		return
	}
	defer func() { _ = stream.Close() }()
	w.Header().Set("Content-Type", "text/plain")
	if err := copyLogs(w, stream, opts.Follow); err != nil && r.Context().Err() == nil {
		h.log.Info("streaming host pod logs", "pod", name, "error", err.Error())
	}
}

// hostPod is the name of the host copy of virtual pod namespace/pod (with uid, when the
// request names one). It fails unless that host pod is this syncer's copy of exactly that
// virtual pod: no request reaches a host pod the tenant does not own by a name collision.
func (h *Handler) hostPod(ctx context.Context, namespace, pod, uid string) (string, error) {
	name := wellknown.HostName(pod, namespace, h.pods.VCluster)
	hp, err := h.host.CoreV1().Pods(h.pods.HostNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("host pod %s/%s: %w", h.pods.HostNamespace, name, err)
	}
	origin, ok := h.pods.Origin(hp)
	if !ok || origin != (client.ObjectKey{Namespace: namespace, Name: pod}) ||
		(uid != "" && hp.Annotations[translate.AnnotationUID] != uid) {
		return "", apierrors.NewNotFound(corev1.Resource("pods"), pod)
	}
	return name, nil
}

// LogOptions reads the kubelet's query parameters as the virtual API server sends them:
// follow, previous, timestamps, sinceSeconds, sinceTime, tailLines, limitBytes and stream.
func LogOptions(r *http.Request, container string) (*corev1.PodLogOptions, error) {
	q := r.URL.Query()
	opts := &corev1.PodLogOptions{Container: container,
		Follow: q.Get("follow") == "true", Previous: q.Get("previous") == "true", Timestamps: q.Get("timestamps") == "true"}
	var errs []error
	opts.SinceSeconds = intParam(q, "sinceSeconds", &errs)
	opts.TailLines = intParam(q, "tailLines", &errs)
	opts.LimitBytes = intParam(q, "limitBytes", &errs)
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("sinceTime: %w", err))
		}
		opts.SinceTime = &metav1.Time{Time: t}
	}
	if v := q.Get("stream"); v != "" {
		opts.Stream = &v
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("log options: %w", err)
	}
	return opts, nil
}

func intParam(q url.Values, name string, errs *[]error) *int64 {
	v := q.Get(name)
	if v == "" {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("%s: %w", name, err))
	}
	return &n
}

// copyLogs copies the host stream, flushing after every read when following.
func copyLogs(w http.ResponseWriter, src io.Reader, follow bool) error {
	if !follow {
		_, err := io.Copy(w, src)
		return err
	}
	rc := http.NewResponseController(w)
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if ferr := rc.Flush(); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// hostStatus keeps the host API's status code, 502 when there is none.
func hostStatus(err error) int {
	var status apierrors.APIStatus
	if errors.As(err, &status) && status.Status().Code >= 400 {
		return int(status.Status().Code)
	}
	return http.StatusBadGateway
}
