package pods

import "github.com/tenantry/tenantry/syncer/allowlist"

// Fields is the allow-list of a host pod: every field ToHost may write (see package
// allowlist). Anything else in a virtual pod, including fields a later Kubernetes adds,
// never reaches the host.
var Fields = allowlist.Join(allowlist.Metadata, containerFields("spec.initContainers[]"), containerFields("spec.containers[]"),
	containerFields("spec.ephemeralContainers[]"), volumeFields("spec.volumes[]"), allowlist.List{
		"spec.ephemeralContainers[].targetContainerName",
		"spec.restartPolicy", "spec.terminationGracePeriodSeconds", "spec.activeDeadlineSeconds",
		"spec.dnsPolicy", "spec.dnsConfig.nameservers[]", "spec.dnsConfig.searches[]", "spec.dnsConfig.options[].name",
		"spec.dnsConfig.options[].value", "spec.nodeSelector.*", "spec.automountServiceAccountToken", "spec.enableServiceLinks",
		"spec.hostNetwork", "spec.hostPID", "spec.shareProcessNamespace", "spec.imagePullSecrets[].name",
		"spec.hostname", "spec.subdomain", "spec.setHostnameAsFQDN", "spec.hostUsers", "spec.os.name",
		"spec.tolerations[].key", "spec.tolerations[].operator", "spec.tolerations[].value", "spec.tolerations[].effect",
		"spec.tolerations[].tolerationSeconds", "spec.hostAliases[].ip", "spec.hostAliases[].hostnames[]",
		"spec.readinessGates[].conditionType",
		"spec.securityContext.runAsUser", "spec.securityContext.runAsGroup", "spec.securityContext.runAsNonRoot",
		"spec.securityContext.supplementalGroups[]", "spec.securityContext.supplementalGroupsPolicy", "spec.securityContext.fsGroup",
		"spec.securityContext.fsGroupChangePolicy", "spec.securityContext.seLinuxChangePolicy",
		"spec.securityContext.sysctls[].name", "spec.securityContext.sysctls[].value",
		"spec.securityContext.seLinuxOptions.type", "spec.securityContext.seLinuxOptions.level",
		"spec.securityContext.seccompProfile.type", "spec.securityContext.seccompProfile.localhostProfile",
		"spec.securityContext.appArmorProfile.type", "spec.securityContext.appArmorProfile.localhostProfile",
		"status",
	}, affinityFields(), spreadFields())

func containerFields(c string) allowlist.List {
	l := allowlist.List{"name", "image", "command[]", "args[]", "workingDir",
		"ports[].name", "ports[].containerPort", "ports[].protocol", "ports[].hostPort", "ports[].hostIP",
		"envFrom[].prefix", "envFrom[].configMapRef.name", "envFrom[].configMapRef.optional",
		"envFrom[].secretRef.name", "envFrom[].secretRef.optional",
		"env[].name", "env[].value", "env[].valueFrom.fieldRef.apiVersion", "env[].valueFrom.fieldRef.fieldPath",
		"env[].valueFrom.resourceFieldRef.containerName", "env[].valueFrom.resourceFieldRef.resource",
		"env[].valueFrom.resourceFieldRef.divisor", "env[].valueFrom.configMapKeyRef.name", "env[].valueFrom.configMapKeyRef.key",
		"env[].valueFrom.configMapKeyRef.optional", "env[].valueFrom.secretKeyRef.name", "env[].valueFrom.secretKeyRef.key",
		"env[].valueFrom.secretKeyRef.optional",
		"resources.limits.*", "resources.requests.*", "resizePolicy[].resourceName", "resizePolicy[].restartPolicy", "restartPolicy",
		"volumeMounts[].name", "volumeMounts[].readOnly", "volumeMounts[].recursiveReadOnly", "volumeMounts[].mountPath",
		"volumeMounts[].subPath", "volumeMounts[].mountPropagation", "volumeMounts[].subPathExpr",
		"volumeDevices[].name", "volumeDevices[].devicePath",
		"terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "stdin", "stdinOnce", "tty",
		"securityContext.capabilities.add[]", "securityContext.capabilities.drop[]", "securityContext.privileged",
		"securityContext.seLinuxOptions.type", "securityContext.seLinuxOptions.level",
		"securityContext.runAsUser", "securityContext.runAsGroup", "securityContext.runAsNonRoot",
		"securityContext.readOnlyRootFilesystem", "securityContext.allowPrivilegeEscalation", "securityContext.procMount",
		"securityContext.seccompProfile.type", "securityContext.seccompProfile.localhostProfile",
		"securityContext.appArmorProfile.type", "securityContext.appArmorProfile.localhostProfile",
		"lifecycle.postStart.sleep.seconds", "lifecycle.preStop.sleep.seconds",
	}
	for _, p := range []string{"livenessProbe", "readinessProbe", "startupProbe"} {
		l = append(l, p+".initialDelaySeconds", p+".timeoutSeconds", p+".periodSeconds", p+".successThreshold",
			p+".failureThreshold", p+".terminationGracePeriodSeconds", p+".grpc.port", p+".grpc.service")
		l = append(l, handlerFields(p)...)
	}
	l = append(l, handlerFields("lifecycle.postStart")...)
	l = append(l, handlerFields("lifecycle.preStop")...)
	return prefixed(c, l)
}

func handlerFields(h string) allowlist.List {
	return prefixed(h, allowlist.List{"exec.command[]", "httpGet.path", "httpGet.port", "httpGet.scheme",
		"httpGet.httpHeaders[].name", "httpGet.httpHeaders[].value", "tcpSocket.port"})
}

func volumeFields(v string) allowlist.List {
	items := func(p string) allowlist.List {
		return prefixed(p, allowlist.List{"path", "fieldRef.apiVersion", "fieldRef.fieldPath", "resourceFieldRef.containerName",
			"resourceFieldRef.resource", "resourceFieldRef.divisor", "mode"})
	}
	keys := func(p string) allowlist.List { return prefixed(p, allowlist.List{"key", "path", "mode"}) }
	l := allowlist.List{"name", "hostPath.path", "hostPath.type", "emptyDir.medium", "emptyDir.sizeLimit",
		"secret.secretName", "secret.defaultMode", "secret.optional", "configMap.name", "configMap.defaultMode", "configMap.optional",
		"persistentVolumeClaim.claimName", "persistentVolumeClaim.readOnly", "downwardAPI.defaultMode",
		"csi.driver", "csi.readOnly", "csi.fsType", "csi.volumeAttributes.*", "csi.nodePublishSecretRef.name",
		"projected.defaultMode", "projected.sources[].configMap.name", "projected.sources[].configMap.optional",
		"projected.sources[].secret.name", "projected.sources[].secret.optional",
		"ephemeral.volumeClaimTemplate.metadata.labels.*", "ephemeral.volumeClaimTemplate.metadata.annotations.*",
		"ephemeral.volumeClaimTemplate.spec.accessModes[]", "ephemeral.volumeClaimTemplate.spec.resources.requests.storage",
		"ephemeral.volumeClaimTemplate.spec.resources.limits.storage", "ephemeral.volumeClaimTemplate.spec.storageClassName",
		"ephemeral.volumeClaimTemplate.spec.volumeMode"}
	l = append(l, keys("secret.items[]")...)
	l = append(l, keys("configMap.items[]")...)
	l = append(l, keys("projected.sources[].configMap.items[]")...)
	l = append(l, keys("projected.sources[].secret.items[]")...)
	l = append(l, items("downwardAPI.items[]")...)
	l = append(l, items("projected.sources[].downwardAPI.items[]")...)
	return prefixed(v, l)
}

func affinityFields() allowlist.List {
	sel := func(p string) allowlist.List {
		return prefixed(p, allowlist.List{"matchLabels.*", "matchExpressions[].key", "matchExpressions[].operator", "matchExpressions[].values[]"})
	}
	term := func(p string) allowlist.List {
		return append(sel(p+".labelSelector"), p+".topologyKey", p+".matchLabelKeys[]", p+".mismatchLabelKeys[]")
	}
	node := func(p string) allowlist.List {
		return prefixed(p, allowlist.List{"matchExpressions[].key", "matchExpressions[].operator", "matchExpressions[].values[]",
			"matchFields[].key", "matchFields[].operator", "matchFields[].values[]"})
	}
	l := node("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[]")
	l = append(l, node("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[].preference")...)
	l = append(l, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[].weight")
	for _, a := range []string{"spec.affinity.podAffinity", "spec.affinity.podAntiAffinity"} {
		l = append(l, term(a+".requiredDuringSchedulingIgnoredDuringExecution[]")...)
		l = append(l, term(a+".preferredDuringSchedulingIgnoredDuringExecution[].podAffinityTerm")...)
		l = append(l, a+".preferredDuringSchedulingIgnoredDuringExecution[].weight")
	}
	return l
}

func spreadFields() allowlist.List {
	return prefixed("spec.topologySpreadConstraints[]", allowlist.List{"maxSkew", "topologyKey", "whenUnsatisfiable",
		"labelSelector.matchLabels.*", "labelSelector.matchExpressions[].key", "labelSelector.matchExpressions[].operator",
		"labelSelector.matchExpressions[].values[]", "minDomains", "nodeAffinityPolicy", "nodeTaintsPolicy", "matchLabelKeys[]"})
}

func prefixed(prefix string, l allowlist.List) allowlist.List {
	out := make(allowlist.List, len(l))
	for i, p := range l {
		out[i] = prefix + "." + p
	}
	return out
}
