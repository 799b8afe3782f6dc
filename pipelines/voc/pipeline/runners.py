"""The runners the job runs on: the DirectRunner for files (batch), Prism for
streaming from Kafka. Prism is built from Go modules at the SDK's own version
the first time it is needed (a few minutes; cached under .voc/prism)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import apache_beam

from voc.paths import DEFAULT_WORK_DIR

PRISM_MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"


class RunnerUnavailable(RuntimeError):
    pass


def prism_path(home: Path = DEFAULT_WORK_DIR / "prism") -> Path:
    return home / f"v{apache_beam.__version__}" / "prism"


def ensure_prism(home: Path = DEFAULT_WORK_DIR / "prism") -> Path:
    """The Prism binary matching this Beam SDK, built with `go install` if missing."""
    path = prism_path(home)
    if path.exists():
        return path
    go = shutil.which("go")
    if go is None:
        raise RunnerUnavailable(
            "streaming runs need the Prism runner, built from Go modules, but `go` is not "
            "on PATH: install Go (1.22 or newer) and run again"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(path.parent), "GOFLAGS": "-mod=mod"}
    proc = subprocess.run(
        [go, "install", f"{PRISM_MODULE}@v{apache_beam.__version__}"],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not path.exists():
        raise RunnerUnavailable(f"building Prism failed:\n{proc.stderr[-2000:]}")
    return path


def prism_options(prism: Path) -> dict:
    # LOOPBACK: the SDK harness runs inside this process, so the DuckDB sink
    # shares one connection and SIGINT reaches the Kafka readers.
    return {
        "runner": "PrismRunner",
        "prism_location": str(prism),
        "environment_type": "LOOPBACK",
        "streaming": True,
    }
