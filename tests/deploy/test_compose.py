"""docker-compose.yml against the Compose Specification (the schema vendored
by check-jsonschema), and against what the stack must hold."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from voc.paths import REPO_DIR

COMPOSE = REPO_DIR / "docker-compose.yml"


def test_compose_file_is_valid_against_the_compose_specification(tmp_path):
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    proc = subprocess.run(
        [exe, "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_broken_compose_file_is_caught(tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  kafka:\n    image: 42\n    ports: nope\n")
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    proc = subprocess.run([exe, "--builtin-schema", "vendor.compose-spec", str(bad)])
    assert proc.returncode != 0


def test_the_stack_has_kafka_flink_job_server_and_pipeline():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert {"kafka", "jobmanager", "taskmanager", "beam-job-server", "pipeline"} <= set(services)
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    import apache_beam

    assert services["beam-job-server"]["image"].endswith(f":{apache_beam.__version__}")
    assert "voc run --source kafka" in " ".join(services["pipeline"]["command"])
