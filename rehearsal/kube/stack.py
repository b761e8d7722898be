"""The Pulumi CLI as our users type it, run on this repository's program against a local
cluster: a throwaway file backend and PULUMI_HOME under the run's folder, the stack's config in
a file there too (--config-file), so nothing lands in the checkout or in ~/.pulumi."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# The commands that read the stack's config (the others take no --config-file).
TAKE_CONFIG_FILE = {"up", "preview", "destroy", "refresh", "config", "import"}


class PulumiError(RuntimeError):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"pulumi {' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}{result.stderr[-2000:]}"
        )
        self.result = result


@dataclass
class PulumiStack:
    workdir: Path
    cluster_env: dict[str, str]
    name: str = "twin"
    echo: bool = True
    passphrase: str = field(default_factory=lambda: secrets.token_hex(16))
    timings: list[tuple[str, float]] = field(default_factory=list)

    @property
    def config_file(self) -> Path:
        return self.workdir / f"Pulumi.{self.name}.yaml"

    def env(self) -> dict[str, str]:
        state, home = self.workdir / "state", self.workdir / "pulumi-home"
        state.mkdir(parents=True, exist_ok=True)
        return {
            **self.cluster_env,
            "PULUMI_BACKEND_URL": f"file://{state}",
            "PULUMI_HOME": str(home),
            "PULUMI_CONFIG_PASSPHRASE": self.passphrase,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
        }

    def argv(self, *args: str) -> list[str]:
        argv = ["pulumi", *args, "--non-interactive", "--stack", self.name]
        if args[0] in TAKE_CONFIG_FILE:
            argv += ["--config-file", str(self.config_file)]
        if args[:2] == ("stack", "init"):
            argv = ["pulumi", *args, "--non-interactive"]
        return argv

    def start(self, *args: str) -> subprocess.Popen[str]:
        """The command started and left running, in a process group of its own (to be killed
        as a closed laptop or a lost terminal would)."""
        return subprocess.Popen(self.argv(*args), cwd=ROOT, env=self.env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

    def run(
        self, *args: str, check: bool = True, stdin: str | None = None, timeout: float = 3600
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        result = self._call(self.argv(*args), stdin, timeout)
        self.timings.append((" ".join(args), round(time.monotonic() - started, 1)))
        if check and result.returncode != 0:
            raise PulumiError(list(args), result)
        return result

    def _call(self, argv: list[str], stdin: str | None, timeout: float) -> subprocess.CompletedProcess[str]:
        """The command's output (stderr with it), shown as it comes when `echo`: an `up` takes minutes."""
        with subprocess.Popen(argv, cwd=ROOT, env=self.env(), stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            if stdin:
                assert proc.stdin is not None
                proc.stdin.write(stdin)
                proc.stdin.close()
            lines = []
            deadline = time.monotonic() + timeout
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if self.echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
                if time.monotonic() > deadline:
                    proc.kill()
                    raise TimeoutError(f"{' '.join(argv[:3])} took over {timeout:.0f} s")
            code = proc.wait()
        return subprocess.CompletedProcess(argv, code, "".join(lines), "")

    def init(self, config: dict[str, str]) -> None:
        # `stack init` takes no --config-file: it writes the stack's file (the passphrase's salt)
        # beside Pulumi.yaml, and we move it to the run's folder at once.
        made = ROOT / self.config_file.name
        if made.exists():
            raise RuntimeError(f"{made} exists: a stack of that name is configured in the checkout; remove it first")
        self.run("stack", "init", self.name)
        if made.exists():
            made.rename(self.config_file)
        for key, value in config.items():
            self.run("config", "set", key, value)

    def up(self, *overrides: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        flags = [arg for kv in overrides for arg in ("-c", kv)]
        return self.run("up", "--yes", "--skip-preview", *flags, check=check)

    def outputs(self) -> dict[str, Any]:
        text = self.run("stack", "output", "--json").stdout
        value, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])  # past any warning line
        return dict(value)
