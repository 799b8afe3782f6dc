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


def test_the_stack_runs_the_job_as_it_is_two_instances_on_one_store():
    import apache_beam

    services = yaml.safe_load(COMPOSE.read_text())["services"]
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    # Prism at the SDK's own version, built into the volume where voc looks for it
    prism = services["prism"]
    assert prism["command"][-1].endswith(f"@v{apache_beam.__version__}")
    assert prism["environment"]["GOBIN"] == f"/work/prism/v{apache_beam.__version__}"
    # every worker: the same group, --instances = the number of workers, each
    # --instance once, the same warehouse and work volume (raw store, Prism)
    workers = {n: s for n, s in services.items() if n.startswith("pipeline")}
    commands = [" ".join(s["command"]) for s in workers.values()]
    assert all("voc run --source kafka" in c for c in commands)
    assert {c.split("--instances ")[1].split()[0] for c in commands} == {str(len(workers))}
    assert sorted(c.split("--instance ")[1].split()[0] for c in commands) == [
        str(i) for i in range(len(workers))
    ]
    assert len({c.split("--group ")[1].split()[0] for c in commands}) == 1
    assert len({c.split("--warehouse ")[1].split()[0] for c in commands}) == 1
    assert all("voc-work:/app/.voc" in s["volumes"] for s in workers.values())
    assert "voc-work:/work" in prism["volumes"]
    # and no service claims a runner the job does not use
    assert not {"jobmanager", "taskmanager", "beam-job-server"} & set(services)
    # the CLI accepts what the stack passes it
    from click.testing import CliRunner

    from voc.commands.run import run

    help_text = CliRunner().invoke(run, ["--help"]).output
    assert "--instances" in help_text and "--instance " in help_text
