package guards_test

import "k8s.io/apiserver/pkg/admission"

var allowHostPath = map[string]string{"tenantry.dev/allow-host-path": "true"}

// tolerations is a namespace granting the tolerations encoded in grants (guards.EncodeTolerations).
func tolerations(grants string) map[string]string {
	return map[string]string{"tenantry.dev/tolerations": grants}
}

func attacks() []attack {
	var out []attack
	for _, list := range [][]attack{podAttacks(), podSecurityAttacks(), serviceAttacks(), endpointAttacks(),
		storageAttacks(), networkAttacks(), ingressAttacks(), ownershipAttacks()} {
		out = append(out, list...)
	}
	return out
}

func podAttacks() []attack {
	return []attack{
		{name: "pod/synced pod admitted", resource: podsGVR, object: ``},
		{name: "pod/hostNetwork", resource: podsGVR, object: `spec: {hostNetwork: true}`, want: "hostNetwork is not allowed"},
		{name: "pod/hostNetwork allowed", resource: podsGVR, ns: map[string]string{"tenantry.dev/allow-host-network": "true"},
			object: `spec: {hostNetwork: true, containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 80}]}]}`},
		{name: "pod/hostPID", resource: podsGVR, object: `spec: {hostPID: true}`, want: "hostPID is not allowed"},
		{name: "pod/hostIPC", resource: podsGVR, ns: allowHostPath, object: `spec: {hostIPC: true}`, want: "hostIPC"},
		{name: "pod/hostPath", resource: podsGVR, object: `spec: {volumes: [{name: h, hostPath: {path: /}}]}`, want: "hostPath volumes are not allowed"},
		{name: "pod/hostPath allowed", resource: podsGVR, ns: allowHostPath, object: `spec: {volumes: [{name: h, hostPath: {path: /var/log}}]}`},
		{name: "pod/hostPath allowed, SYS_ADMIN not", resource: podsGVR, ns: allowHostPath,
			object: `spec: {volumes: [{name: h, hostPath: {path: /}}], containers: [{name: c, image: x, securityContext: {capabilities: {add: [SYS_ADMIN]}}}]}`,
			want:   "capabilities.add"},
		{name: "pod/hostPath allowed, privileged init container not", resource: podsGVR, ns: allowHostPath,
			object: `spec: {initContainers: [{name: i, image: x, securityContext: {privileged: true}}]}`, want: "privileged containers"},
		{name: "pod/privileged ephemeral container", resource: podsGVR, op: admission.Update,
			object: `spec: {ephemeralContainers: [{name: e, image: x, securityContext: {privileged: true}}]}`, want: "privileged containers"},
		{name: "pod/privileged allowed", resource: podsGVR, ns: map[string]string{"tenantry.dev/allow-privileged": "true"},
			object: `spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}`},
		{name: "pod/hostPort", resource: podsGVR, object: `spec: {containers: [{name: c, image: x, ports: [{containerPort: 80, hostPort: 8080}]}]}`, want: "hostPort"},
		{name: "pod/nfs volume", resource: podsGVR, ns: allowHostPath, object: `spec: {volumes: [{name: n, nfs: {server: 10.0.0.1, path: /}}]}`, want: "volume type not allowed"},
		{name: "pod/projected service account token", resource: podsGVR,
			object: `spec: {volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: t, audience: vault}}]}}]}`,
			want:   "projected serviceAccountToken"},
		{name: "pod/projected pod certificate", resource: podsGVR,
			object: `spec: {volumes: [{name: t, projected: {sources: [{podCertificate: {signerName: x/y, keyType: ED25519, credentialBundlePath: c}}]}}]}`,
			want:   "projected volume sources other than"},
		{name: "pod/automount token", resource: podsGVR, object: `spec: {automountServiceAccountToken: true}`, want: "automountServiceAccountToken must be false"},
		{name: "pod/service account", resource: podsGVR, object: `spec: {serviceAccountName: vc-team-a}`, want: "serviceAccountName"},
		{name: "pod/ephemeral volumeName", resource: podsGVR,
			object: `spec: {volumes: [{name: e, ephemeral: {volumeClaimTemplate: {spec: {volumeName: pv-of-team-b, accessModes: [ReadWriteOnce]}}}}]}`,
			want:   "ephemeral volumeClaimTemplate"},
		{name: "pod/node-condition tolerations", resource: podsGVR,
			object: `spec: {tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 300}, {key: node.kubernetes.io/unschedulable, operator: Exists}]}`},
		{name: "pod/control-plane toleration", resource: podsGVR,
			object: `spec: {tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]}`, want: "tolerations other than"},
		{name: "pod/toleration of every taint", resource: podsGVR, ns: tolerations("dedicated"),
			object: `spec: {tolerations: [{operator: Exists}]}`, want: "tolerations other than"},
		{name: "pod/granted toleration", resource: podsGVR, ns: tolerations("dedicated=tenants:NoSchedule"),
			object: `spec: {tolerations: [{key: dedicated, operator: Equal, value: tenants, effect: NoSchedule}]}`},
		{name: "pod/granted value, another effect", resource: podsGVR, ns: tolerations("dedicated=tenants:NoSchedule"),
			object: `spec: {tolerations: [{key: dedicated, value: tenants, effect: NoExecute}]}`, want: "tolerations other than"},
		{name: "pod/granted key, another value", resource: podsGVR, ns: tolerations("dedicated=tenants"),
			object: `spec: {tolerations: [{key: dedicated, value: gpu}]}`, want: "tolerations other than"},
		{name: "pod/Exists where one value is granted", resource: podsGVR, ns: tolerations("dedicated=tenants"),
			object: `spec: {tolerations: [{key: dedicated, operator: Exists}]}`, want: "tolerations other than"},
		{name: "pod/any value where the key is granted", resource: podsGVR, ns: tolerations("dedicated,gpu:NoSchedule"),
			object: `spec: {tolerations: [{key: dedicated, value: x, effect: NoExecute}, {key: gpu, operator: Exists, effect: NoSchedule}]}`},
		{name: "pod/granted effect only", resource: podsGVR, ns: tolerations("gpu:NoSchedule"),
			object: `spec: {tolerations: [{key: gpu, operator: Exists}]}`, want: "tolerations other than"},
		{name: "pod/control-plane label", resource: podsGVR, object: `metadata: {labels: {vcluster.tenantry.dev/control-plane: "true"}}`,
			want: "vcluster.tenantry.dev/control-plane"},
		{name: "pod/tenantry label", resource: podsGVR, object: `metadata: {labels: {tenantry.dev/tenant: team-b}}`, want: "reserved tenantry.dev domain"},
		{name: "pod/control-plane selector label", resource: podsGVR, object: `metadata: {labels: {app.kubernetes.io/name: tenantry-vcluster}}`,
			want: "selects the tenant's control plane"},
		{name: "pod/agent-owned label", resource: podsGVR, object: `metadata: {labels: {app.kubernetes.io/managed-by: tenantry}}`,
			want: "belong to the tenantry agent"},
	}
}

func podSecurityAttacks() []attack {
	c := func(sc string) string {
		return `spec: {containers: [{name: c, image: x, securityContext: ` + sc + `}]}`
	}
	return []attack{
		{name: "pss/procMount", resource: podsGVR, ns: allowHostPath, object: c(`{procMount: Unmasked}`), want: "procMount"},
		{name: "pss/seccomp pod", resource: podsGVR, ns: allowHostPath, object: `spec: {securityContext: {seccompProfile: {type: Unconfined}}}`, want: "seccomp"},
		{name: "pss/seccomp container", resource: podsGVR, ns: allowHostPath, object: c(`{seccompProfile: {type: Unconfined}}`), want: "seccomp"},
		{name: "pss/apparmor field", resource: podsGVR, ns: allowHostPath, object: c(`{appArmorProfile: {type: Unconfined}}`), want: "AppArmor profile"},
		{name: "pss/apparmor annotation", resource: podsGVR, ns: allowHostPath,
			object: `metadata: {annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}}`, want: "AppArmor annotation"},
		{name: "pss/selinux type", resource: podsGVR, ns: allowHostPath, object: c(`{seLinuxOptions: {type: spc_t}}`), want: "SELinux"},
		{name: "pss/selinux user", resource: podsGVR, ns: allowHostPath, object: `spec: {securityContext: {seLinuxOptions: {user: system_u}}}`, want: "SELinux"},
		{name: "pss/selinux container_t", resource: podsGVR, object: c(`{seLinuxOptions: {type: container_t}}`)},
		{name: "pss/unsafe sysctl", resource: podsGVR, ns: allowHostPath,
			object: `spec: {securityContext: {sysctls: [{name: kernel.core_pattern, value: "|/x"}]}}`, want: "unsafe sysctls"},
		{name: "pss/safe sysctl", resource: podsGVR, object: `spec: {securityContext: {sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]}}`},
		{name: "pss/net admin", resource: podsGVR, ns: allowHostPath, object: c(`{capabilities: {add: [NET_ADMIN]}}`), want: "capabilities.add"},
		{name: "pss/hostProcess", resource: podsGVR, object: c(`{windowsOptions: {hostProcess: true}}`), want: "hostProcess"},
	}
}

func serviceAttacks() []attack {
	return []attack{
		{name: "service/synced", resource: servicesGVR, object: `spec: {selector: {app: web, vcluster.tenantry.dev/managed-by: team-a}, ports: [{port: 80}]}`},
		{name: "service/externalIPs", resource: servicesGVR, object: `spec: {externalIPs: [1.2.3.4], ports: [{port: 80}]}`, want: "externalIPs"},
		{name: "service/ExternalName", resource: servicesGVR, object: `spec: {type: ExternalName, externalName: kubernetes.default}`, want: "ExternalName"},
		{name: "service/loadBalancerIP", resource: servicesGVR, object: `spec: {type: LoadBalancer, loadBalancerIP: 1.2.3.4}`, want: "loadBalancerIP"},
		{name: "service/selects control plane", resource: servicesGVR,
			object: `spec: {selector: {app.kubernetes.io/instance: team-a}}`, want: "vcluster.tenantry.dev/managed-by"},
	}
}

func endpointAttacks() []attack {
	return []attack{
		{name: "endpoints/pod target", resource: endpointsGVR,
			object: `subsets: [{addresses: [{ip: 10.0.0.5, targetRef: {kind: Pod, name: web-x-shop-x-team-a, namespace: tenant-team-a}}]}]`},
		{name: "endpoints/bare IP", resource: endpointsGVR, object: `subsets: [{addresses: [{ip: 10.0.0.1}]}]`, want: "CVE-2021-25740"},
		{name: "endpoints/other namespace", resource: endpointsGVR,
			object: `subsets: [{notReadyAddresses: [{ip: 10.0.0.9, targetRef: {kind: Pod, name: db, namespace: tenant-team-b}}]}]`, want: "CVE-2021-25740"},
		{name: "endpointslice/bare IP", resource: slicesGVR, object: `{addressType: IPv4, endpoints: [{addresses: [10.0.0.1]}]}`, want: "CVE-2021-25740"},
		{name: "endpointslice/FQDN", resource: slicesGVR, object: `{addressType: FQDN, endpoints: []}`, want: "IPv4 and IPv6"},
		{name: "endpointslice/pod target", resource: slicesGVR,
			object: `{addressType: IPv4, endpoints: [{addresses: [10.0.0.5], targetRef: {kind: Pod, name: web, namespace: tenant-team-a}}]}`},
		{name: "secret/service account token", resource: secretsGVR,
			object: `{type: kubernetes.io/service-account-token, metadata: {name: t, annotations: {kubernetes.io/service-account.name: default}}}`,
			want:   "Secret type kubernetes.io/service-account-token is not allowed"},
		{name: "secret/opaque", resource: secretsGVR, object: `{type: Opaque, data: {}}`},
	}
}

func storageAttacks() []attack {
	return []attack{
		{name: "pvc/plain", resource: pvcsGVR, object: `spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}`},
		{name: "pvc/volumeName", resource: pvcsGVR, object: `spec: {volumeName: pv-of-team-b}`, want: "spec.volumeName"},
		{name: "pvc/volumeName bound kept on update", resource: pvcsGVR, op: admission.Update,
			object: `spec: {volumeName: pvc-123}`, old: `spec: {volumeName: pvc-123}`},
		{name: "pvc/volumeName changed on update", resource: pvcsGVR, op: admission.Update,
			object: `spec: {volumeName: pv-of-team-b}`, old: `spec: {}`, want: "spec.volumeName"},
		{name: "pvc/selector", resource: pvcsGVR, object: `spec: {selector: {matchLabels: {team: b}}}`, want: "spec.selector"},
		{name: "pvc/cross-namespace data source", resource: pvcsGVR,
			object: `spec: {dataSourceRef: {kind: VolumeSnapshot, apiGroup: snapshot.storage.k8s.io, name: s, namespace: tenant-team-b}}`, want: "dataSourceRef"},
	}
}

func networkAttacks() []attack {
	return []attack{
		{name: "netpol/pods of the namespace", resource: netpolsGVR,
			object: `spec: {podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]}`},
		{name: "netpol/ipBlock", resource: netpolsGVR, object: `spec: {podSelector: {}, egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]}`, want: "ipBlock"},
		{name: "netpol/no peers", resource: netpolsGVR, object: `spec: {podSelector: {}, ingress: [{ports: [{port: 80}]}]}`, want: "without peers"},
		{name: "netpol/empty egress", resource: netpolsGVR, object: `spec: {podSelector: {}, egress: [{}]}`, want: "without peers"},
		{name: "netpol/namespaceSelector", resource: netpolsGVR,
			object: `spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {}}]}]}`, want: "namespaceSelector"},
	}
}

func ingressAttacks() []attack {
	hosts := map[string]string{"tenantry.dev/ingress-hosts": "shop.example.com,*.team-a.example.com"}
	rule := func(host string) string {
		return `spec: {rules: [{host: "` + host + `", http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}`
	}
	return []attack{
		{name: "ingress/exact host", resource: ingressesGVR, ns: hosts, object: rule("shop.example.com")},
		{name: "ingress/wildcard host", resource: ingressesGVR, ns: hosts, object: rule("app.team-a.example.com")},
		{name: "ingress/two labels under wildcard", resource: ingressesGVR, ns: hosts, object: rule("a.b.team-a.example.com"), want: "spec.sync.ingressHosts"},
		{name: "ingress/suffix without dot", resource: ingressesGVR, ns: hosts, object: rule("evilteam-a.example.com"), want: "spec.sync.ingressHosts"},
		{name: "ingress/other tenant's host", resource: ingressesGVR, ns: hosts, object: rule("login.team-b.example.com"), want: "spec.sync.ingressHosts"},
		{name: "ingress/no hosts claimed", resource: ingressesGVR, object: rule("shop.example.com"), want: "spec.sync.ingressHosts"},
		{name: "ingress/no host", resource: ingressesGVR, ns: hosts, object: `spec: {rules: [{http: {paths: []}}]}`, want: "needs a host"},
		{name: "ingress/default backend", resource: ingressesGVR, ns: hosts,
			object: `spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}`, want: "defaultBackend"},
		{name: "ingress/tls host", resource: ingressesGVR, ns: hosts, object: `spec: {tls: [{hosts: [bank.example.com], secretName: s}]}`, want: "TLS host"},
		{name: "ingress/snippet", resource: ingressesGVR, ns: hosts,
			object: `{metadata: {name: x, annotations: {nginx.ingress.kubernetes.io/server-snippet: "location /"}}, spec: {}}`, want: "snippet"},
		{name: "ingress/auth-url", resource: ingressesGVR, ns: hosts,
			object: `{metadata: {name: x, annotations: {nginx.ingress.kubernetes.io/auth-url: "http://x"}}, spec: {}}`,
			want:   "not on tenantry's allow-list: nginx.ingress.kubernetes.io/auth-url"},
		{name: "ingress/allowed annotation", resource: ingressesGVR, ns: hosts,
			object: `{metadata: {name: x, annotations: {nginx.ingress.kubernetes.io/rewrite-target: /, vcluster.tenantry.dev/object-name: x}}, spec: {}}`},
	}
}

func ownershipAttacks() []attack {
	agentLabels := `{app.kubernetes.io/managed-by: tenantry, tenantry.dev/tenant: team-a}`
	return []attack{
		{name: "own/quota update", resource: quotasGVR, op: admission.Update,
			object: `{metadata: {name: tenant-quota}, spec: {hard: {pods: "1000"}}}`, old: `{metadata: {name: tenant-quota}, spec: {hard: {pods: "10"}}}`,
			want: "resourcequotas belong to the tenantry agent"},
		{name: "own/quota delete", resource: quotasGVR, op: admission.Delete, old: `{metadata: {name: tenant-quota}}`, want: "belong to the tenantry agent"},
		{name: "own/agent netpol delete", resource: netpolsGVR, op: admission.Delete,
			old: `{metadata: {name: tenantry-default-deny, labels: ` + agentLabels + `}}`, want: "belong to the tenantry agent"},
		{name: "own/agent configmap relabel", resource: configmapGVR, op: admission.Update,
			object: `{metadata: {name: vc-team-a}}`, old: `{metadata: {name: vc-team-a, labels: ` + agentLabels + `}}`, want: "belong to the tenantry agent"},
		{name: "own/kubeconfig secret", resource: secretsGVR,
			object: `{type: Opaque, metadata: {name: vc-team-a-kubeconfig, labels: ` + agentLabels + `}}`},
		{name: "own/other kubeconfig name", resource: secretsGVR,
			object: `{type: Opaque, metadata: {name: vc-team-b-kubeconfig, labels: ` + agentLabels + `}}`, want: "belong to the tenantry agent"},
		{name: "own/reserved annotation", resource: configmapGVR,
			object: `{metadata: {name: c, annotations: {tenantry.dev/source: tenants/x.yaml}}}`, want: "annotations in the reserved"},
		{name: "own/reserved label kept on update", resource: configmapGVR, op: admission.Update,
			object: `{metadata: {name: c, labels: {tenantry.dev/x: y}}}`, old: `{metadata: {name: c, labels: {tenantry.dev/x: y}}}`},
		{name: "own/reserved label changed on update", resource: configmapGVR, op: admission.Update,
			object: `{metadata: {name: c, labels: {tenantry.dev/x: z}}}`, old: `{metadata: {name: c, labels: {tenantry.dev/x: y}}}`,
			want: "labels in the reserved tenantry.dev domain are not allowed: tenantry.dev/x"},
		{name: "own/reserved subdomain label", resource: configmapGVR,
			object: `{metadata: {name: c, labels: {x.tenantry.dev/y: z}}}`, want: "labels in the reserved"},
	}
}
