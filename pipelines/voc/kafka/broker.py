"""The project's own single-node Apache Kafka broker (KRaft: broker and controller
in one JVM on 127.0.0.1), run from the official jars.

Everything lives under one folder, `home` (by default `<repo>/.voc/kafka`):

    home/
      lib/                 the broker's jars, fetched once by Maven (broker/pom.xml)
      data/                log.dirs (formatted once with a random cluster id)
      logs/server.log      the JVM's stdout and stderr
      server.properties    written on every start (the ports may change)
      broker.json          pid, ports and start time of the running broker
      .lock                serialises concurrent start/stop calls

The broker runs detached (its own session), so it outlives the command that
started it; `stop` sends SIGTERM and, after a timeout, SIGKILL.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voc.kafka.clients import BrokerUnavailable, admin_client
from voc.paths import DEFAULT_WORK_DIR

KAFKA_VERSION = "4.4.0"
DEFAULT_PORT = 39092
DEFAULT_CONTROLLER_PORT = 39093
HOST = "127.0.0.1"
# The machine has 2 cores shared with Beam and dbt: a small heap is plenty for
# a development broker and keeps start-up and GC quick.
DEFAULT_HEAP_MB = 512

_BROKER_FILES = Path(__file__).resolve().parent / "broker"
POM = _BROKER_FILES / "pom.xml"
LOG4J_CONFIG = _BROKER_FILES / "log4j2.properties"
_BROKER_JAR = f"kafka_2.13-{KAFKA_VERSION}.jar"
_MAIN_CLASS = "kafka.Kafka"


class BrokerError(RuntimeError):
    """The broker could not be fetched, started or stopped; the message says why."""


@dataclass(frozen=True, slots=True)
class BrokerInfo:
    """A running broker, as `start` left it."""

    home: Path
    pid: int
    bootstrap: str
    controller: str
    started_in_s: float
    already_running: bool
    log_path: Path

    def to_dict(self) -> dict[str, object]:
        return {
            k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()
        }


@dataclass(frozen=True, slots=True)
class BrokerStatus:
    """What `status` found: `running` means the process is alive, `reachable`
    that it also answered a metadata request (it may still be starting)."""

    home: Path
    running: bool
    reachable: bool
    pid: int | None
    bootstrap: str
    topics: tuple[str, ...]
    log_path: Path

    def to_dict(self) -> dict[str, object]:
        d = dataclasses.asdict(self)
        d["home"], d["log_path"], d["topics"] = (
            str(self.home),
            str(self.log_path),
            list(self.topics),
        )
        return d


def default_home() -> Path:
    """The one place that says where the broker's state lives."""
    return DEFAULT_WORK_DIR / "kafka"


# --- jars ------------------------------------------------------------------


def ensure_jars(home: Path) -> Path:
    """Return `home/lib` with the broker's jars, fetching them with Maven the first
    time (they are cached in ~/.m2 too, so a new home costs a copy, not a download)."""
    lib = Path(home) / "lib"
    if _jars_complete(lib):
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            "Maven (`mvn`) is needed once to fetch the Kafka broker's jars and was not found "
            "on PATH. Install it (Debian/Ubuntu: `apt-get install maven`) and run again."
        )
    Path(home).mkdir(parents=True, exist_ok=True)
    # One fetch at a time (parallel test workers on a clean clone, two homes at
    # once): the others wait for it and find the jars complete.
    with _locked(Path(home), ".jars.lock"):
        if _jars_complete(lib):
            return lib
        staging = Path(home) / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not (staging / _BROKER_JAR).exists():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
            raise BrokerError(
                f"Maven could not fetch org.apache.kafka:kafka_2.13:{KAFKA_VERSION} and its "
                f"runtime dependencies (exit {proc.returncode}):\n" + "\n".join(tail)
            )
        if lib.is_symlink():  # a shared cache linked in (tests): replace the link only
            lib.unlink()
        shutil.rmtree(lib, ignore_errors=True)
        staging.rename(lib)
        (lib / ".complete").write_text(_pom_digest() + "\n")
    return lib


def _jars_complete(lib: Path) -> bool:
    marker = lib / ".complete"
    return marker.exists() and marker.read_text().strip() == _pom_digest()


def _pom_digest() -> str:
    import hashlib

    return hashlib.sha256(POM.read_bytes()).hexdigest()[:16]


# --- start / stop / status ---------------------------------------------------


def start(
    home: Path,
    port: int = DEFAULT_PORT,
    controller_port: int = DEFAULT_CONTROLLER_PORT,
    timeout_s: float = 90,
    heap_mb: int = DEFAULT_HEAP_MB,
) -> BrokerInfo:
    """Start the broker in the background and wait until it answers a metadata
    request. When it already runs, say so and return its info (ports unchanged)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    with _locked(home):
        state = _read_state(home)
        if state and _alive(state["pid"], home):
            return BrokerInfo(
                home=home,
                pid=state["pid"],
                bootstrap=state["bootstrap"],
                controller=state["controller"],
                started_in_s=0.0,
                already_running=True,
                log_path=_log_path(home),
            )
        java = _java()
        for p in (port, controller_port):
            _check_port_free(p)
        lib = ensure_jars(home)
        props = _write_server_properties(home, port, controller_port)
        _format_storage_once(home, java, lib, props)

        log_path = _log_path(home)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            java, f"-Xmx{heap_mb}m", f"-Xms{min(heap_mb, 128)}m", "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG}", f"-Dkafka.logs.dir={log_path.parent}",
            # The home path on the command line lets `_alive` tell our broker from
            # an unrelated process that reused the pid.
            f"-Dvoc.kafka.home={home.resolve()}",
            "-cp", f"{lib}/*", _MAIN_CLASS, str(props),
        ]  # fmt: skip
        t0 = time.monotonic()
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=home,
            )
        bootstrap_addr, controller_addr = f"{HOST}:{port}", f"{HOST}:{controller_port}"
        _write_state(
            home,
            {
                "pid": proc.pid,
                "bootstrap": bootstrap_addr,
                "controller": controller_addr,
                "started_at": time.time(),
            },
        )
        try:
            _wait_ready(proc, bootstrap_addr, deadline=t0 + timeout_s, log_path=log_path)
        except BaseException:
            _terminate(proc.pid, home, timeout_s=10)
            _state_path(home).unlink(missing_ok=True)
            raise
        return BrokerInfo(
            home=home,
            pid=proc.pid,
            bootstrap=bootstrap_addr,
            controller=controller_addr,
            started_in_s=round(time.monotonic() - t0, 2),
            already_running=False,
            log_path=log_path,
        )


def stop(home: Path, timeout_s: float = 30) -> bool:
    """Stop the broker: SIGTERM (a clean shutdown flushes the logs), then SIGKILL
    after `timeout_s`. Return False when nothing was running."""
    home = Path(home)
    if not home.exists():
        return False
    with _locked(home):
        state = _read_state(home)
        was_running = bool(state) and _alive(state["pid"], home)
        if was_running:
            _terminate(state["pid"], home, timeout_s=timeout_s)
        _state_path(home).unlink(missing_ok=True)
        return was_running


def status(home: Path, timeout_s: float = 3) -> BrokerStatus:
    home = Path(home)
    state = _read_state(home)
    running = bool(state) and _alive(state["pid"], home)
    addr = bootstrap(home)
    topics: tuple[str, ...] = ()
    reachable = False
    if running:
        try:
            with admin_client(addr, timeout_s=timeout_s) as admin:
                topics = tuple(sorted(t for t in admin.list_topics() if not t.startswith("__")))
            reachable = True
        except BrokerUnavailable:
            reachable = False
    return BrokerStatus(
        home=home,
        running=running,
        reachable=reachable,
        pid=state["pid"] if running else None,
        bootstrap=addr,
        topics=topics,
        log_path=_log_path(home),
    )


def bootstrap(home: Path) -> str:
    """The bootstrap address of the broker in `home` (the default one if it never ran)."""
    home = Path(home)
    state = _read_state(home)
    if state:
        return state["bootstrap"]
    # Stopped: the address it had last time (start writes the ports there).
    with contextlib.suppress(FileNotFoundError):
        for line in (home / "server.properties").read_text().splitlines():
            if line.startswith("advertised.listeners=PLAINTEXT://"):
                return line.split("//", 1)[1].strip()
    return f"{HOST}:{DEFAULT_PORT}"


# --- helpers ------------------------------------------------------------------


def _log_path(home: Path) -> Path:
    return home / "logs" / "server.log"


def _state_path(home: Path) -> Path:
    return home / "broker.json"


def _read_state(home: Path) -> dict | None:
    try:
        return json.loads(_state_path(home).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _write_state(home: Path, state: dict) -> None:
    tmp = _state_path(home).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(_state_path(home))


@contextlib.contextmanager
def _locked(home: Path, name: str = ".lock") -> Iterator[None]:
    with open(home / name, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    candidate = Path(java_home) / "bin" / "java" if java_home else None
    java = str(candidate) if candidate and candidate.exists() else shutil.which("java")
    if java is None:
        raise BrokerError(
            "Java 17 or newer is needed to run the Kafka broker and `java` was not found "
            "(nor $JAVA_HOME/bin/java). Install a JRE (Debian/Ubuntu: "
            "`apt-get install openjdk-17-jre-headless`) and run again."
        )
    return java


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError as exc:
            raise BrokerError(
                f"port {HOST}:{port} is already in use by another process; choose other "
                f"ports (--port / --controller-port) or stop that process ({exc.strerror})"
            ) from None


def _write_server_properties(home: Path, port: int, controller_port: int) -> Path:
    data = (home / "data").resolve()
    lines = {
        "node.id": "1",
        "process.roles": "broker,controller",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        # A static voter set (not --standalone): the controller's address lives in
        # this file, not in the formatted log, so the ports can change between runs.
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "log.dirs": str(data),
        "num.partitions": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "3",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "3",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # One consumer per group in development: no reason to wait for others.
        "group.initial.rebalance.delay.ms": "0",
        # Topics are declared in voc/kafka/topics.py; a typo must fail, not create one.
        "auto.create.topics.enable": "false",
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    props = home / "server.properties"
    header = "# Written by `voc kafka start` on every start; edits are overwritten.\n"
    props.write_text(header + "".join(f"{k}={v}\n" for k, v in lines.items()))
    return props


def _format_storage_once(home: Path, java: str, lib: Path, props: Path) -> None:
    data = home / "data"
    if (data / "meta.properties").exists():
        return
    cmd = [
        java, "-Xmx256m", f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        "-cp", f"{lib}/*", "kafka.tools.StorageTool", "format",
        "--cluster-id", _random_cluster_id(), "--config", str(props), "--ignore-formatted",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-10:]
        raise BrokerError("formatting the broker's storage failed:\n" + "\n".join(tail))


def _random_cluster_id() -> str:
    # Kafka's Uuid.toString: url-safe base64 of 16 bytes without padding; like
    # Uuid.randomUuid it avoids ids starting with '-' (they read as options).
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _wait_ready(proc: subprocess.Popen, addr: str, *, deadline: float, log_path: Path) -> None:
    while True:
        code = proc.poll()
        if code is not None:
            raise BrokerError(
                f"the Kafka broker exited with code {code} while starting; "
                f"last lines of {log_path}:\n{_tail(log_path)}"
            )
        try:
            with admin_client(addr, timeout_s=2) as admin:
                admin.list_topics()
            return
        except BrokerUnavailable:
            pass
        if time.monotonic() > deadline:
            raise BrokerError(
                f"the Kafka broker did not answer at {addr} in time; "
                f"last lines of {log_path}:\n{_tail(log_path)}"
            )
        time.sleep(0.25)


def _tail(path: Path, n: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"


def _alive(pid: int, home: Path) -> bool:
    """True when `pid` is a live (not zombie) broker started for this `home`."""
    with contextlib.suppress(ChildProcessError):
        # We may be the parent (tests start and stop in one process): reap it.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    marker = f"-Dvoc.kafka.home={Path(home).resolve()}".encode()
    return marker in cmdline and _MAIN_CLASS.encode() in cmdline


def _exists(pid: int) -> bool:
    """True while `pid` is a process that has not finished exiting (not a
    zombie, not gone). A process mid-exit has already dropped its memory, so
    its cmdline reads empty and `_alive` calls it dead while it still holds
    its ports and files (a load-dependent flake of test_broker's restart
    test): `_terminate` waits for this instead."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        if stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X"):
            return True
        # a zombie leader whose other threads (the JVM's) still run is exiting
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False


def _terminate(pid: int, home: Path, *, timeout_s: float) -> None:
    """SIGTERM, then SIGKILL after `timeout_s`; return once the process has
    finished exiting. `pid` was checked to be this home's broker (`_alive`)
    just before, under the home's lock."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _exists(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _exists(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _exists(pid):
        raise BrokerError(f"the Kafka broker (pid {pid}) survived SIGKILL")
