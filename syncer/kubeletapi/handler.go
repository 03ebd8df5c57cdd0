// Package kubeletapi serves the kubelet's pod-log API to the virtual API server from the host API.
package kubeletapi

import (
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

	"github.com/tenantry/tenantry/api/wellknown"
)

// unsupported are kubelet streaming endpoints a virtual cluster does not serve yet.
var unsupported = map[string]bool{"exec": true, "attach": true, "portForward": true, "run": true}

// Handler answers GET /containerLogs/{namespace}/{pod}/{container} with the logs of the
// pod's host copy, read through the host API.
type Handler struct {
	Host          kubernetes.Interface
	HostNamespace string
	VCluster      string
	Log           logr.Logger
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case unsupported[parts[0]]:
		msg := fmt.Sprintf("tenantry: %s is not supported in virtual clusters yet; only logs are", parts[0])
		http.Error(w, msg, http.StatusNotImplemented)
	case parts[0] != "containerLogs" || len(parts) != 4 || slices.Contains(parts, ""):
		http.NotFound(w, r)
	case r.Method != http.MethodGet:
		http.Error(w, "only GET is supported", http.StatusMethodNotAllowed)
	default:
		h.logs(w, r, parts[1], parts[2], parts[3])
	}
}

func (h *Handler) logs(w http.ResponseWriter, r *http.Request, namespace, pod, container string) {
	opts, err := LogOptions(r, container)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	name := wellknown.HostName(pod, namespace, h.VCluster)
	stream, err := h.Host.CoreV1().Pods(h.HostNamespace).GetLogs(name, opts).Stream(r.Context())
	if err != nil {
		http.Error(w, fmt.Sprintf("host pod %s/%s: %v", h.HostNamespace, name, err), hostStatus(err))
		return
	}
	defer func() { _ = stream.Close() }()
	w.Header().Set("Content-Type", "text/plain")
	if err := copyLogs(w, stream, opts.Follow); err != nil && r.Context().Err() == nil {
		h.Log.Info("streaming host pod logs", "pod", name, "error", err.Error())
	}
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
