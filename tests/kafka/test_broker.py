"""voc.kafka.broker and `voc kafka`: start / status / stop of the real broker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from voc.commands.kafka import kafka as kafka_cli
from voc.kafka import broker
from voc.kafka.topics import INPUT_TOPICS, OUTPUT_TOPICS

pytestmark = pytest.mark.kafka


def test_start_when_running_says_so_and_keeps_the_broker(own_broker):
    # GIVEN the session's running broker
    before = broker.status(own_broker.home)
    # WHEN it is started again
    info = broker.start(own_broker.home)
    # THEN the same process answers, and start reports it was already running
    assert info.already_running
    assert info.pid == before.pid
    assert info.bootstrap == own_broker.bootstrap


def test_status_of_running_broker_lists_the_project_topics(own_broker):
    st = broker.status(own_broker.home)
    assert st.running and st.reachable
    assert st.bootstrap == own_broker.bootstrap == broker.bootstrap(own_broker.home)
    assert set(INPUT_TOPICS + OUTPUT_TOPICS) <= set(st.topics)


def test_cli_status_json(own_broker):
    result = CliRunner().invoke(kafka_cli, ["--home", str(own_broker.home), "status", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out["running"] is True
    assert out["bootstrap"] == own_broker.bootstrap
    assert "voc.calls" in out["topics"]


def test_stop_and_status_of_a_home_that_never_ran(tmp_path):
    home = tmp_path / "never-started"
    assert broker.stop(home) is False
    st = broker.status(home)
    assert not st.running and st.pid is None
    result = CliRunner().invoke(kafka_cli, ["--home", str(home), "stop", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output.strip().splitlines()[-1])["stopped"] is False


def test_missing_java_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(broker.BrokerError, match="openjdk-17"):
        broker.start(tmp_path / "home", port=1, controller_port=2)


def test_missing_maven_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(broker.BrokerError, match="apt-get install maven"):
        broker.ensure_jars(tmp_path / "home")


def test_busy_port_is_a_clear_error(own_broker, tmp_path):
    port = int(own_broker.bootstrap.rsplit(":", 1)[1])
    with pytest.raises(broker.BrokerError, match="already in use"):
        broker.start(tmp_path / "other", port=port, controller_port=port + 1)


def test_stop_is_idempotent_and_a_restart_keeps_topics_and_data(own_broker):
    # Runs last in this module: it restarts the session's broker.
    home = own_broker.home
    port = int(own_broker.bootstrap.rsplit(":", 1)[1])
    controller_port = _controller_port(home)
    pid = broker.status(home).pid
    # WHEN stopped twice
    assert broker.stop(home) is True
    assert broker.stop(home) is False
    # THEN the process is gone and status says stopped, remembering the address
    assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid)
    st = broker.status(home)
    assert not st.running and st.bootstrap == own_broker.bootstrap
    # WHEN started again on the same ports
    info = broker.start(home, port=port, controller_port=controller_port)
    # THEN the topics survived (data dir formatted once, kept)
    assert not info.already_running
    assert {"voc.calls", "voc.alerts"} <= set(broker.status(home).topics)


def _controller_port(home: Path) -> int:
    for line in (home / "server.properties").read_text().splitlines():
        if line.startswith("controller.quorum.voters="):
            return int(line.rsplit(":", 1)[1])
    raise AssertionError("no controller.quorum.voters")


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
