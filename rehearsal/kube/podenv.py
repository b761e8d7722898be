"""A container's environment as the kubelet resolves it: envFrom ConfigMaps and Secrets, env
values, ConfigMap and Secret keys, the downward API, and $(VAR) references to variables
declared before. Then, because these pods share the machine's one network and resolver, each
Service name the values mention (`name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`)
is replaced by the loopback address the node's proxy serves that Service on (proxy.py): what
cluster DNS would have answered, written into the value instead."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from typing import Any

Lookup = Callable[[str, str], dict[str, str]]  # (kind, name) -> data, kind "ConfigMap" | "Secret"


class EnvError(Exception):
    """A reference the kubelet could not resolve: the container cannot start (CreateContainerConfigError)."""


def secret_data(secret: Mapping[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def field_value(pod: Mapping[str, Any], path: str) -> str:
    meta, spec, status = pod["metadata"], pod["spec"], pod.get("status") or {}
    label = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if label:
        return str((meta.get(label.group(1)) or {}).get(label.group(2), ""))
    fields = {
        "metadata.name": meta["name"],
        "metadata.namespace": meta["namespace"],
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": status.get("podIP", ""),
        "status.hostIP": status.get("hostIP", ""),
    }
    if path not in fields:
        raise EnvError(f"unsupported fieldRef {path}")
    return fields[path]


def _value(item: Mapping[str, Any], pod: Mapping[str, Any], lookup: Lookup) -> str | None:
    if "value" in item:
        return str(item["value"])
    source = item.get("valueFrom") or {}
    for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        if key in source:
            ref = source[key]
            data = lookup(kind, ref["name"])
            if ref["key"] not in data:
                if ref.get("optional"):
                    return None
                raise EnvError(f"couldn't find key {ref['key']} in {kind} {pod['metadata']['namespace']}/{ref['name']}")
            return data[ref["key"]]
    if "fieldRef" in source:
        return field_value(pod, source["fieldRef"]["fieldPath"])
    if "resourceFieldRef" in source:
        raise EnvError("resourceFieldRef is not supported by the node agent")
    return ""


def expand(value: str, env: Mapping[str, str]) -> str:
    """$(VAR) from `env`; $$(VAR) escapes; an unknown reference stays as written, as the kubelet leaves it."""
    return re.sub(r"\$\$|\$\((\w+)\)", lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), value)


def resolve(container: Mapping[str, Any], pod: Mapping[str, Any], lookup: Lookup) -> dict[str, str]:
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in source:
                env.update({prefix + k: v for k, v in lookup(kind, source[key]["name"]).items()})
    for item in container.get("env") or []:
        value = _value(item, pod, lookup)
        if value is not None:
            env[item["name"]] = expand(value, env)
    return env


HOST_KEY = re.compile(r"(?:^|_|^PG)(?:HOST|HOSTNAME|ADDR|ADDRESS|SERVER)$")


def _host(name: str, namespace: str) -> str:
    return rf"{re.escape(name)}(?:\.{re.escape(namespace)}(?:\.svc(?:\.cluster\.local)?)?)?"


def route(env: Mapping[str, str], addresses: Mapping[str, str], namespace: str) -> dict[str, str]:
    """The env with each Service's name replaced by its address on this node, where a resolver
    would have looked it up: a URL's host (`scheme://name:port/...`), or the whole value of a
    variable named as a host (DB_HOST, PGHOST, ..._ADDR). A user or database called like a
    Service (POSTGRES_USER=postgres) is left alone."""
    out = dict(env)
    for name, address in addresses.items():
        host = _host(name, namespace)
        in_url = re.compile(rf"(?<=//){host}(?=[:/?#]|$)")
        whole = re.compile(rf"{host}")
        for key, value in out.items():
            value = in_url.sub(address, value)
            if HOST_KEY.search(key) and whole.fullmatch(value):
                value = address
            out[key] = value
    return out
