"""Storage on this node, as a local-path provisioner and the kubelet provide it: a default
StorageClass, a folder-backed PersistentVolume made for each pending claim (the controller
manager then binds the two), and each pod's volumes as folders: emptyDir, the claim's volume,
ConfigMaps and Secrets written out as files."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from rehearsal.kube.images import Mounts

STORAGE_CLASS = "local-path"
PROVISIONER = "bfdemo.io/local-path"


class VolumeError(Exception):
    """A volume is not ready yet (an unbound claim): the pod waits in ContainerCreating."""


def storage_class() -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def volume_for(claim: dict[str, Any], root: Path) -> dict[str, Any]:
    """A PersistentVolume for a pending claim, pre-bound to it (claimRef), on a folder of its own."""
    meta = claim["metadata"]
    name = f"pvc-{meta['uid']}"
    path = root / "volumes" / name
    path.mkdir(parents=True, exist_ok=True)
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes", ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(path), "type": "DirectoryOrCreate"},
            "claimRef": {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]},
        },
    }


def _write(folder: Path, files: dict[str, bytes], mode: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, content in files.items():
        (folder / key).write_bytes(content)
        (folder / key).chmod(mode)


def _owned(folder: Path, uid: int | None, gid: int | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if uid is not None or gid is not None:
        os.chown(folder, uid if uid is not None else -1, gid if gid is not None else -1)
    return folder


def _projected(api: Any, pod: dict[str, Any], projected: dict[str, Any]) -> dict[str, bytes]:
    """The service account's token (a TokenRequest for this pod), ConfigMap items (the cluster's
    CA) and the downward API's namespace: the files of the volume every pod gets that does not
    opt out of its token."""
    from rehearsal.kube.podenv import field_value

    namespace, files = pod["metadata"]["namespace"], {}
    for source in projected.get("sources") or []:
        if "serviceAccountToken" in source:
            token = source["serviceAccountToken"]
            files[token["path"]] = api.pod_token(
                pod, token.get("expirationSeconds", 3607), token.get("audience")
            ).encode()
        elif "configMap" in source:
            data = api.lookup(namespace)("ConfigMap", source["configMap"]["name"])
            for item in source["configMap"].get("items") or [{"key": k, "path": k} for k in data]:
                files[item["path"]] = data[item["key"]].encode()
        elif "downwardAPI" in source:
            for item in source["downwardAPI"].get("items") or []:
                files[item["path"]] = field_value(pod, item["fieldRef"]["fieldPath"]).encode()
    return files


def pod_volumes(api: Any, pod: dict[str, Any], root: Path) -> dict[str, Mounts]:
    """Each container's mounts, its volumes made under `root`."""
    security = pod["spec"].get("securityContext") or {}
    uid, gid = security.get("runAsUser"), security.get("fsGroup", security.get("runAsGroup"))
    namespace = pod["metadata"]["namespace"]
    lookup = api.lookup(namespace)
    folders: dict[str, Path] = {}
    for volume in pod["spec"].get("volumes") or []:
        name, here = volume["name"], root / volume["name"]
        if "emptyDir" in volume:
            folders[name] = _owned(here, uid, gid)
        elif "persistentVolumeClaim" in volume:
            folders[name] = _owned(api.claim_path(namespace, volume["persistentVolumeClaim"]["claimName"]), uid, gid)
        elif "configMap" in volume:
            data = lookup("ConfigMap", volume["configMap"]["name"])
            _write(here, {k: v.encode() for k, v in data.items()}, volume["configMap"].get("defaultMode", 0o644))
            folders[name] = here
        elif "secret" in volume:
            raw = api.secret_raw(namespace, volume["secret"]["secretName"])
            _write(here, {k: base64.b64decode(v) for k, v in raw.items()}, volume["secret"].get("defaultMode", 0o644))
            folders[name] = here
        elif "projected" in volume:
            _write(here, _projected(api, pod, volume["projected"]), volume["projected"].get("defaultMode", 0o644))
            folders[name] = here
        else:
            raise VolumeError(
                f"volume {name}: only emptyDir, persistentVolumeClaim, configMap, secret and projected "
                "volumes are supported"
            )
    return {
        c["name"]: Mounts(
            {m["mountPath"]: folders[m["name"]] / m.get("subPath", "") for m in c.get("volumeMounts") or []}
        )
        for c in pod["spec"]["containers"]
    }
