"""The node agent's calls to the API server, on the official `kubernetes` client, with plain
dict bodies: what it reads (its pods, ConfigMaps, Secrets, claims, Services, EndpointSlices)
and what it writes (pod status, the final delete of a pod, volumes)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException

from rehearsal.kube.podenv import EnvError
from rehearsal.kube.volumes import VolumeError, storage_class, volume_for


def _raw(response: Any) -> dict[str, Any]:
    return json.loads(response.data)


class Api:
    def __init__(self, kubeconfig: Path) -> None:
        self.client = config.new_client_from_config(config_file=str(kubeconfig))
        self.core = client.CoreV1Api(self.client)
        self.storage = client.StorageV1Api(self.client)

    def pods_on(self, node: str) -> list[dict[str, Any]]:
        return _raw(
            self.core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}", _preload_content=False)
        )["items"]

    def services(self) -> list[dict[str, Any]]:
        return _raw(self.core.list_service_for_all_namespaces(_preload_content=False))["items"]

    def lookup(self, namespace: str) -> Callable[[str, str], dict[str, str]]:
        """(kind, name) -> the ConfigMap's data or the Secret's decoded data."""

        def get(kind: str, name: str) -> dict[str, str]:
            try:
                if kind == "ConfigMap":
                    return dict(
                        _raw(self.core.read_namespaced_config_map(name, namespace, _preload_content=False)).get("data")
                        or {}
                    )
                return {k: base64.b64decode(v).decode() for k, v in self.secret_raw(namespace, name).items()}
            except ApiException as err:
                if err.status == 404:
                    raise EnvError(f'{kind.lower()} "{name}" not found') from None
                raise

        return get

    def secret_raw(self, namespace: str, name: str) -> dict[str, str]:
        return dict(_raw(self.core.read_namespaced_secret(name, namespace, _preload_content=False)).get("data") or {})

    def claim_path(self, namespace: str, claim: str) -> Path:
        try:
            pvc = _raw(self.core.read_namespaced_persistent_volume_claim(claim, namespace, _preload_content=False))
        except ApiException as err:
            if err.status == 404:
                raise VolumeError(f'persistentvolumeclaim "{claim}" not found') from None
            raise
        volume = pvc["spec"].get("volumeName")
        if not volume or (pvc.get("status") or {}).get("phase") != "Bound":
            raise VolumeError(f'persistentvolumeclaim "{claim}" is not bound yet')
        pv = _raw(self.core.read_persistent_volume(volume, _preload_content=False))
        return Path(pv["spec"]["hostPath"]["path"])

    def ensure_storage_class(self) -> None:
        try:
            self.storage.create_storage_class(storage_class())
        except ApiException as err:
            if err.status != 409:
                raise

    def provision(self, root: Path) -> None:
        """A volume for every pending claim of our class that has none yet."""
        claims = _raw(self.core.list_persistent_volume_claim_for_all_namespaces(_preload_content=False))["items"]
        for claim in claims:
            if (
                (claim.get("status") or {}).get("phase") == "Pending"
                and not claim["spec"].get("volumeName")
                and claim["spec"].get("storageClassName") in (None, "local-path")
            ):
                try:
                    self.core.create_persistent_volume(volume_for(claim, root))
                except ApiException as err:
                    if err.status != 409:
                        raise

    def release_volumes(self) -> list[Path]:
        """Volumes whose claim is gone (reclaim policy Delete): deleted; their folders returned."""
        gone = []
        for pv in _raw(self.core.list_persistent_volume(_preload_content=False))["items"]:
            if (pv.get("status") or {}).get("phase") == "Released":
                self.core.delete_persistent_volume(pv["metadata"]["name"])
                gone.append(Path(pv["spec"]["hostPath"]["path"]))
        return gone

    def pod_token(self, pod: dict[str, Any], seconds: int, audience: str | None) -> str:
        """A token of the pod's service account, bound to the pod (TokenRequest), as the kubelet asks for one."""
        meta = pod["metadata"]
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "expirationSeconds": seconds,
                **({"audiences": [audience]} if audience else {}),
                "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": meta["name"], "uid": meta["uid"]},
            },
        }
        account = pod["spec"].get("serviceAccountName", "default")
        answer = self.core.create_namespaced_service_account_token(
            account, meta["namespace"], body, _preload_content=False
        )
        return str(_raw(answer)["status"]["token"])

    def patch_pod_status(self, namespace: str, name: str, status: dict[str, Any]) -> None:
        try:
            self.core.patch_namespaced_pod_status(name, namespace, {"status": status})
        except ApiException as err:
            if err.status != 404:
                raise

    def finish_pod_deletion(self, namespace: str, name: str, uid: str) -> None:
        """The kubelet's last word on a pod: deleted now, if it is still this pod."""
        try:
            self.core.delete_namespaced_pod(
                name,
                namespace,
                grace_period_seconds=0,
                body=client.V1DeleteOptions(grace_period_seconds=0, preconditions=client.V1Preconditions(uid=uid)),
            )
        except ApiException as err:
            if err.status not in (404, 409):
                raise
