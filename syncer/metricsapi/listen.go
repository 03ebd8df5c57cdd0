package metricsapi

// Where the virtual API server finds the metrics API: the APIService v1beta1.metrics.k8s.io
// names the virtual Service ServiceNamespace/ServiceName, whose Endpoints hold the control
// plane pod's IP and Port (the aggregator dials Endpoints, --enable-aggregator-routing).
const (
	ServiceNamespace = "kube-system"
	ServiceName      = "tenantry-metrics"
	// ServerName is the name the aggregator verifies the serving certificate for.
	ServerName = ServiceName + "." + ServiceNamespace + ".svc"
	// Port is where the syncer serves it, on the pod IP: next to the kubelet API's 10350.
	Port = 10351
	// APIServiceName is the virtual APIService.
	APIServiceName = "v1beta1.metrics.k8s.io"
)

// OwnService reports whether namespace/name is the metrics API's virtual Service (or its
// Endpoints): the Service and Endpoints syncers leave it in the virtual cluster.
func OwnService(namespace, name string) bool {
	return namespace == ServiceNamespace && name == ServiceName
}
