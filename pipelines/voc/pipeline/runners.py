"""The runners the job runs on: the FnApiRunner for files (batch), Prism for
streaming from Kafka. Prism is built from Go modules at the SDK's own version
the first time it is needed (a few minutes; cached under .voc/prism), with a
bind address (see `ensure_prism`)."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import apache_beam

from voc.paths import DEFAULT_WORK_DIR

PRISM_MODULE = "github.com/apache/beam/sdks/v2/go/cmd/prism"
# Every listener the project starts binds here unless the user says otherwise
# (README "Security").
BIND_HOST = "127.0.0.1"


# The job's state and message streams stay open as long as the job runs (a year).
JOB_STREAM_TIMEOUT_S = 365 * 86400


class RunnerUnavailable(RuntimeError):
    pass


def prism_path(home: Path = DEFAULT_WORK_DIR / "prism") -> Path:
    # "-bind": built with a bind address (below); a plain `go install` build
    # listens on every interface and is not reused.
    return home / f"v{apache_beam.__version__}-bind" / "prism"


# Prism's job service (which also serves the workers' control, data and state
# endpoints) listens with net.Listen(":port") - every interface - and has no
# flag to change it. The build patches that one call to read PRISM_BIND_HOST
# (default 127.0.0.1) and is otherwise Beam's own source at the SDK's version.
_LISTEN_FILE = Path("go/pkg/beam/runners/prism/internal/jobservices/server.go")
_LISTEN_CALL = 'net.Listen("tcp", fmt.Sprintf(":%d", port))'
_BIND_GO = """package jobservices

import "os"

// bindHost is where the job service and the workers' FnAPI endpoints listen:
// loopback unless PRISM_BIND_HOST names another address (VOC Loop's build).
func bindHost() string {
	if h := os.Getenv("PRISM_BIND_HOST"); h != "" {
		return h
	}
	return "127.0.0.1"
}
"""


def ensure_prism(home: Path = DEFAULT_WORK_DIR / "prism") -> Path:
    """The Prism binary matching this Beam SDK, built from Go modules if missing."""
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
    # One build at a time (parallel tests, two `voc run`s): the others wait for it.
    with open(path.parent / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _build_prism(go, path)
    return path


def _build_prism(go: str, path: Path) -> None:
    build = path.parent / "build"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    env = {**os.environ, "GOFLAGS": "-mod=mod"}
    version = f"v{apache_beam.__version__}"
    module = PRISM_MODULE.removesuffix("/go/cmd/prism")

    def go_run(*args: str) -> str:
        proc = subprocess.run([go, *args], cwd=build, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RunnerUnavailable(f"building Prism failed:\n{proc.stderr[-2000:]}")
        return proc.stdout

    source = Path(json.loads(go_run("mod", "download", "-json", f"{module}@{version}"))["Dir"])
    original = (source / _LISTEN_FILE).read_text(encoding="utf-8")
    if _LISTEN_CALL not in original:
        raise RunnerUnavailable(f"Prism {version} no longer listens as expected: {_LISTEN_FILE}")
    # The module, as symlinks to the module cache, except the patched package's files.
    _mirror(source, build / "beam", _LISTEN_FILE.parts)
    (build / "beam" / _LISTEN_FILE).write_text(
        original.replace(_LISTEN_CALL, 'net.Listen("tcp", fmt.Sprintf("%s:%d", bindHost(), port))')
    )
    (build / "beam" / _LISTEN_FILE.parent / "voc_bind.go").write_text(_BIND_GO)
    go_version = go_run("mod", "edit", "-json", str(source / "go.mod"))
    (build / "go.mod").write_text(
        f"module voc/prism\n\ngo {json.loads(go_version)['Go']}\n\n"
        f"require {module} {version}\n\nreplace {module} => ./beam\n"
    )
    shutil.copyfile(source / "go.sum", build / "go.sum")
    go_run("build", "-o", str(path.with_suffix(".tmp")), PRISM_MODULE)
    path.with_suffix(".tmp").rename(path)  # whole or absent, never half-written
    shutil.rmtree(build, ignore_errors=True)


def _mirror(source: Path, target: Path, keep_real: tuple[str, ...]) -> None:
    """`target` mirrors `source` with symlinks, but the directories on the path
    `keep_real` are real (so one file in them can be replaced)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if keep_real and entry.name == keep_real[0]:
            if len(keep_real) > 1:
                _mirror(entry, target / entry.name, keep_real[1:])
        else:
            (target / entry.name).symlink_to(entry)


def prism_options(prism: Path, worker_pool: str | None = None) -> dict:
    """Options for a streaming run on Prism. The SDK harness runs inside this
    process (so the DuckDB sink shares one connection and SIGINT reaches the
    Kafka readers): LOOPBACK, or - what LOOPBACK does, but listening on
    loopback only - the worker pool at `worker_pool` (`local_worker_pool`)."""
    env = {"environment_type": "LOOPBACK"}
    if worker_pool is not None:
        env = {"environment_type": "EXTERNAL", "environment_config": worker_pool}
    return {
        "runner": "PrismRunner",
        "prism_location": str(prism),
        "streaming": True,
        # Beam puts this deadline (default 300 s) on the job's state and message
        # streams, so a run longer than that failed with DEADLINE_EXCEEDED (a
        # loaded machine's benchmark, any long stream): a streaming job has no end.
        "job_server_timeout": JOB_STREAM_TIMEOUT_S,
        **env,
    }


@contextlib.contextmanager
def local_worker_pool(options=None, host: str = BIND_HOST) -> Iterator[str]:
    """An in-process SDK worker pool listening on `host` only; yields its address.

    Beam's LOOPBACK environment starts the same pool
    (`BeamFnExternalWorkerPoolServicer.start`) bound to every interface
    (`[::]`), with no option to change it; this is that function with the
    address as a parameter, and the same cache settings taken from `options`.
    Workers run as threads of this process."""
    import grpc
    from apache_beam.options.pipeline_options import DebugOptions, PipelineOptions
    from apache_beam.portability.api import beam_fn_api_pb2_grpc
    from apache_beam.runners.worker import sdk_worker_main
    from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer
    from apache_beam.utils import thread_pool_executor

    server = grpc.server(
        thread_pool_executor.shared_unbounded_instance(),
        options=[("grpc.http2.max_pings_without_data", 0), ("grpc.http2.max_ping_strikes", 0)],
    )
    port = server.add_insecure_port(f"{host}:0")
    options = options or PipelineOptions()
    experiments = options.view_as(DebugOptions).experiments or []
    pool = BeamFnExternalWorkerPoolServicer(
        use_process=False,
        state_cache_size=sdk_worker_main._get_state_cache_size_bytes(options=options),
        data_buffer_time_limit_ms=sdk_worker_main._get_data_buffer_time_limit_ms(experiments),
    )
    beam_fn_api_pb2_grpc.add_BeamFnExternalWorkerPoolServicer_to_server(pool, server)
    server.start()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop(1)
