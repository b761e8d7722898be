"""`kubectl` for scripts that exec into pods of the local node: `exec` goes to the node agent
(kubelet.py explains why), everything else to the real kubectl built with the control plane.
Said plainly: this is a shim for `exec` alone; `get`, `logs`, `wait`, `apply` ... are kubectl's.

    BFDEMO_NODE_ROOT=<agent root> BFDEMO_KUBECTL=<real kubectl> python -m rehearsal.kube.kubectl ARGS...
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import urllib.request
from pathlib import Path

# kubectl's global flags that take a value, as scripts pass them before or after `exec`.
VALUED = {"--context", "-n", "--namespace", "--kubeconfig", "-c", "--container", "--request-timeout"}


def parse_exec(args: list[str]) -> tuple[str, str, str | None, list[str]]:
    """(namespace, target, container, command) of `kubectl ... exec [-i] [-t] TARGET [-c C] -- CMD...`."""
    if "--" not in args:
        raise SystemExit("kubectl (bfdemo shim): exec needs `-- COMMAND`")
    split = args.index("--")
    head, command = args[:split], args[split + 1 :]
    namespace, container, positional = "default", None, []
    i = 0
    while i < len(head):
        arg = head[i]
        name, _, inline = arg.partition("=")
        if name in VALUED:
            value = inline or head[i + 1]
            i += 1 if inline else 2
            if name in ("-n", "--namespace"):
                namespace = value
            elif name in ("-c", "--container"):
                container = value
            continue
        if not arg.startswith("-"):
            positional.append(arg)
        i += 1
    targets = [p for p in positional if p != "exec"]
    if len(targets) != 1:
        raise SystemExit(f"kubectl (bfdemo shim): cannot tell the pod from {head}")
    return namespace, targets[0], container, command


def exec_on_node(args: list[str]) -> int:
    namespace, target, container, command = parse_exec(args)
    info = json.loads((Path(os.environ["BFDEMO_NODE_ROOT"]) / "kubelet" / "exec.json").read_text())
    stdin = sys.stdin.buffer.read() if ("-i" in args or "--stdin" in args or "-it" in args) else b""
    body = json.dumps(
        {
            "namespace": namespace,
            "target": target,
            "container": container,
            "command": command,
            "stdin": base64.b64encode(stdin).decode(),
        }
    ).encode()
    request = urllib.request.Request(
        info["url"], body, {"Authorization": f"Bearer {info['token']}", "Content-Type": "application/json"}
    )
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the agent's own run-made certificate
    with urllib.request.urlopen(request, context=context, timeout=3600) as response:  # noqa: S310 - loopback
        answer = json.loads(response.read())
    if "error" in answer:
        print(f"error: {answer['error']}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(base64.b64decode(answer["stdout"]))
    sys.stderr.buffer.write(base64.b64decode(answer["stderr"]))
    return int(answer["exitCode"])


def main() -> int:
    args = sys.argv[1:]
    if "exec" in args[: args.index("--") if "--" in args else len(args)]:
        return exec_on_node(args)
    real = os.environ["BFDEMO_KUBECTL"]
    os.execv(real, [real, *args])
    return 1  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
