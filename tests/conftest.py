"""Suite-wide settings. The CI machine has 2 cores shared by the broker, dbt and
Beam: hypothesis runs without per-example deadlines there.

`make test` runs the suite on two pytest-xdist workers with the scheduler
below (DECISIONLOG.md, "Test suite wall time")."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "voc",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("voc")

TESTS_DIR = Path(__file__).resolve().parent
# The units that take longest start first (longest first, the two workers end
# together). Seconds summed per unit in a two-worker run at load ~20
# (DECISIONLOG.md, "Test suite wall time"): their ratios are what counts. A unit
# not named here is short and runs after these. A module named here inside a
# folder with a conftest.py is a unit of its own: it uses none of the folder's
# session fixtures (test_chaos and test_two_workers start their own broker).
UNIT_SECONDS = {
    "tests/kafka/test_chaos.py": 949,
    "tests/kafka": 831,
    "tests/dashboards": 736,
    "tests/test_demo.py": 583,
    "tests/warehouse": 407,
    "tests/contracts/test_edge.py": 376,
    "tests/realdata/test_callcenter_marts.py": 216,
    "tests/issues/test_issues.py": 191,
    "tests/simulate": 154,
    "tests/kafka/test_two_workers.py": 154,
    "tests/pipeline/test_detect_stream.py": 141,
    "tests/catalog/test_catalog.py": 106,
}


def unit_of(nodeid: str, tests_dir: Path = TESTS_DIR) -> str:
    """The work unit of a test: its module when UNIT_SECONDS names it, else the
    folder under tests/ that has a conftest.py of its own (its session fixtures,
    a broker or a built warehouse, are built once per worker, so the whole
    folder goes to one worker), else its module."""
    module = nodeid.split("::", 1)[0]
    if module in UNIT_SECONDS:
        return module
    parts = Path(module).parts
    # (nodeids are relative to the rootdir, the repository: tests/<folder>/...)
    for depth in range(2, len(parts)):
        folder = Path(*parts[:depth])
        if (tests_dir.parent / folder / "conftest.py").exists():
            return folder.as_posix()
    return module


def _scheduler():
    """LoadScopeScheduling with units from `unit_of`, the longest first, and a
    worker given its next unit only when it is down to its last test (xdist
    holds that one back until it knows the next), so a unit is not queued
    behind a long test while the other worker idles."""
    from xdist.scheduler import LoadScopeScheduling

    class FolderScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return unit_of(nodeid)

        def _reschedule(self, node) -> None:
            if node.shutting_down:
                return
            if not self.workqueue:
                node.shutdown()
                return
            if self._pending_of(self.assigned_work[node]) <= 1:
                self._assign_work_unit(node)

        def _assign_work_unit(self, node) -> None:
            longest = max(self.workqueue, key=lambda unit: UNIT_SECONDS.get(unit, 0))
            self.workqueue.move_to_end(longest, last=False)
            super()._assign_work_unit(node)

    return FolderScheduling


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "each":
        return None
    return _scheduler()(config, log)
