"""A realistic PodList generator (the shape `kubectl get pods -o json` returns), so
that every client, including the official one's models, decodes real-looking data."""

from __future__ import annotations

import json


def pod(i: int, namespace: str = "bench") -> dict:
    name = f"web-{i:05d}-7d9c8b6f5-x{i % 997:03d}"
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": "web-7d9c8b6f5-",
            "namespace": namespace,
            "uid": f"6f0c3b1e-{i:04x}-4a8b-9c3d-{i:012x}",
            "resourceVersion": str(100000 + i),
            "creationTimestamp": "2026-11-30T10:15:30Z",
            "labels": {"app": "web", "pod-template-hash": "7d9c8b6f5", "tier": "frontend", "shard": str(i % 16)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-7d9c8b6f5",
                                 "uid": "0d4c4f8e-1111-4e5f-9a0b-7c6d5e4f3a2b", "controller": True}],
        },
        "spec": {
            "volumes": [{"name": "kube-api-access-abcde", "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            ]}}],
            "containers": [{
                "name": "web",
                "image": "registry.example.com/team/web:1.27.3",
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "env": [{"name": "MODE", "value": "production"}, {"name": "SHARD", "value": str(i % 16)}],
                "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                "volumeMounts": [{"name": "kube-api-access-abcde", "readOnly": True,
                                  "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent",
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": f"node-{i % 50:02d}",
            "schedulerName": "default-scheduler",
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": "2026-11-30T10:15:35Z"}
                for t in ("Ready", "PodScheduled")
            ],
            "hostIP": f"10.0.{i % 50}.10",
            "podIP": f"10.244.{i // 250}.{i % 250}",
            "podIPs": [{"ip": f"10.244.{i // 250}.{i % 250}"}],
            "startTime": "2026-11-30T10:15:30Z",
            "containerStatuses": [{
                "name": "web", "state": {"running": {"startedAt": "2026-11-30T10:15:34Z"}},
                "lastState": {}, "ready": True, "restartCount": 0,
                "image": "registry.example.com/team/web:1.27.3",
                "imageID": "registry.example.com/team/web@sha256:" + f"{i:016x}",
                "containerID": "containerd://" + f"{i * 7919:016x}", "started": True,
            }],
            "qosClass": "Burstable",
        },
    }


def pod_list(n: int = 10_000) -> bytes:
    body = {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "123456"},
            "items": [pod(i) for i in range(n)]}
    return json.dumps(body, separators=(",", ":")).encode()


def watch_stream(n: int = 10_000) -> bytes:
    lines = []
    for i in range(n):
        p = pod(i)
        p["metadata"]["resourceVersion"] = str(200000 + i)
        lines.append(json.dumps({"type": "MODIFIED", "object": p}, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()
