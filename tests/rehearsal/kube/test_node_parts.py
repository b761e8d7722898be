"""The node agent's pure parts: environment resolution as the kubelet does it, Service routing
rules as kube-proxy writes them, the exec shim's reading of kubectl's arguments, and image
names."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehearsal.kube.images import Mounts, repository
from rehearsal.kube.kubectl import parse_exec
from rehearsal.kube.podenv import EnvError, expand, resolve, route
from rehearsal.kube.proxy import Backend, ServicePort, ready_backends, rules

POD = {
    "metadata": {"name": "web-0", "namespace": "shop", "uid": "u1", "labels": {"app": "web"}},
    "spec": {"nodeName": "n1"},
    "status": {"podIP": "127.2.0.7"},
}
DATA = {("ConfigMap", "cfg"): {"A": "1", "URL": "http://catalog:8080/x"}, ("Secret", "pw"): {"password": "s3cret"}}


def lookup(kind: str, name: str) -> dict[str, str]:
    if (kind, name) not in DATA:
        raise EnvError(f"{kind} {name} not found")
    return DATA[(kind, name)]


def test_env_resolves_as_the_kubelet_does() -> None:
    container = {
        "envFrom": [{"configMapRef": {"name": "cfg"}}],
        "env": [
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "pw", "key": "password"}}},
            {"name": "ME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "DSN", "value": "$(ME):$(PW)@$(NOPE) $$(ME)"},
        ],
    }
    env = resolve(container, POD, lookup)
    assert env["A"] == "1" and env["PW"] == "s3cret" and env["ME"] == "web-0"
    assert env["IP"] == "127.2.0.7" and env["APP"] == "web"
    # $(VAR) from earlier variables; an unknown one stays; $$ escapes.
    assert env["DSN"] == "web-0:s3cret@$(NOPE) $(ME)"


def test_a_missing_key_fails_unless_optional() -> None:
    missing = {"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "NOPE"}}}]}
    with pytest.raises(EnvError, match="NOPE"):
        resolve(missing, POD, lookup)
    optional = {
        "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "NOPE", "optional": True}}}]
    }
    assert resolve(optional, POD, lookup) == {}
    assert expand("$(A)-$(B)", {"A": "a"}) == "a-$(B)"


def test_services_are_routed_where_a_resolver_would_look_them_up() -> None:
    env = {
        "CATALOG_URL": "http://catalog:8080/x",
        "FULL": "http://catalog.shop.svc.cluster.local:8080",
        "DB_HOST": "postgres",
        "PGHOST": "postgres",  # libpq's own (the revert Job's psql)
        "POSTGRES_USER": "postgres",
        "OTHER": "http://catalog-admin:1",
        "ELSEWHERE": "http://catalog.other:8080",
    }
    out = route(env, {"catalog": "127.1.0.2", "postgres": "127.1.0.3"}, "shop")
    assert out["CATALOG_URL"] == "http://127.1.0.2:8080/x"
    assert out["FULL"] == "http://127.1.0.2:8080"
    assert out["DB_HOST"] == out["PGHOST"] == "127.1.0.3"
    # Not a host: a database user named like the Service; a longer name; another namespace.
    assert out["POSTGRES_USER"] == "postgres"
    assert out["OTHER"] == "http://catalog-admin:1" and out["ELSEWHERE"] == "http://catalog.other:8080"


def _pod(ip: str, ready: bool, app: str = "web", namespace: str = "shop") -> dict:
    return {
        "metadata": {"name": ip, "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"ports": [{"name": "http", "containerPort": 8080}]}]},
        "status": {"podIP": ip, "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_service_rules_spread_over_ready_endpoints() -> None:
    service = {"metadata": {"name": "web", "namespace": "shop"}, "spec": {"selector": {"app": "web"}}}
    pods = [
        _pod("127.2.0.1", True),
        _pod("127.2.0.2", False),
        _pod("127.2.0.3", True),
        _pod("127.2.0.4", True, app="other"),
        _pod("127.2.0.5", True, namespace="elsewhere"),
    ]
    backends = ready_backends(service, {"port": 80, "targetPort": "http"}, pods)
    assert backends == (Backend("127.2.0.1", 8080), Backend("127.2.0.3", 8080))
    text = rules([ServicePort("127.1.0.2", 80, backends), ServicePort("127.1.0.9", 5432, ())])
    lines = [line for line in text.splitlines() if line.startswith("-A")]
    # Half the new connections to the first, the rest to the second; none for a Service with no endpoint.
    assert lines == [
        "-A BFDEMO-SERVICES -d 127.1.0.2/32 -p tcp --dport 80 -m statistic --mode random --probability 0.50000 "
        "-j DNAT --to-destination 127.2.0.1:8080",
        "-A BFDEMO-SERVICES -d 127.1.0.2/32 -p tcp --dport 80 -j DNAT --to-destination 127.2.0.3:8080",
    ]


def test_the_exec_shim_reads_kubectl_arguments_as_scripts_write_them() -> None:
    args = [
        "--context",
        "bfdemo",
        "-n",
        "ecommerce-demo",
        "exec",
        "-i",
        "statefulset/postgres",
        "-c",
        "postgres",
        "--",
        "psql",
        "-X",
        "-1",
        "-U",
        "u",
    ]
    assert parse_exec(args) == ("ecommerce-demo", "statefulset/postgres", "postgres", ["psql", "-X", "-1", "-U", "u"])
    assert parse_exec(["exec", "web-0", "--namespace=shop", "--", "true"]) == ("shop", "web-0", None, ["true"])


def test_images_and_mounts() -> None:
    assert repository("postgres:17.6-alpine@sha256:ef25") == "postgres"
    assert repository("docker.io/library/postgres:17") == "postgres"
    assert repository("otel/opentelemetry-collector-contrib:0.130.0") == "otel/opentelemetry-collector-contrib"
    assert repository("localhost:5000/bfdemo-services") == "localhost:5000/bfdemo-services"
    mounts = Mounts({"/var/lib/postgresql/data": Path("/v/data"), "/var/run/postgresql": Path("/v/run")})
    assert mounts.local("/var/lib/postgresql/data/pgdata") == Path("/v/data/pgdata")
    assert mounts.local("/var/run/postgresql") == Path("/v/run")
    assert mounts.local("/etc") is None
    # The revert Job's script, on a node whose folders lie under /tmp while the pod mounts /tmp:
    # each path is rewritten once, the local folder never taken for a mount path.
    job = Mounts({"/sql": Path("/tmp/node/v/u1/sql"), "/tmp": Path("/tmp/node/v/u1/tmp")})
    assert job.rewrite("psql -f /sql/restore.sql; cd /tmp && ls /sqlite /tmp") == (
        "psql -f /tmp/node/v/u1/sql/restore.sql; cd /tmp/node/v/u1/tmp && ls /sqlite /tmp/node/v/u1/tmp")


def test_a_failed_containers_message_is_the_end_of_its_log_when_its_policy_says_so(tmp_path: Path) -> None:
    import sys

    from rehearsal.kube.containers import Container
    from rehearsal.kube.images import Launch

    script = "import sys\nfor i in range(200): print('line', i)\nprint('calibration failed: the reason'); sys.exit(3)"
    launch = Launch([sys.executable, "-c", script], {}, tmp_path)
    states = {}
    for policy in (True, False):
        c = Container("job", launch, tmp_path / f"{policy}.log", None, "g", logs_on_error=policy)
        c.start()
        assert c.proc is not None
        c.proc.wait()
        while c.poll() is None:
            pass
        states[policy] = c.state()["terminated"]
    assert states[True]["exitCode"] == 3 and states[True]["reason"] == "Error"
    message = states[True]["message"]
    assert message.endswith("calibration failed: the reason\n") and len(message.splitlines()) == 80
    assert "message" not in states[False]
