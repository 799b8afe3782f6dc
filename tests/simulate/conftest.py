"""One simulated data set shared by the read-only tests of this folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from voc.simulate import SimulationSummary, simulate

DAYS = 3
SEED = 7


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimulationSummary]:
    out = tmp_path_factory.mktemp("sim")
    # A higher malformed rate than the default so every stream gets broken lines.
    return out, simulate(out, days=DAYS, seed=SEED, malformed_rate=0.01)
