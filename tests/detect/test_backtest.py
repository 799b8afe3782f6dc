"""`voc detect backtest`: a count series run causally against a calendar-aware baseline."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voc.cli import main
from voc.detect.backtest import BacktestError, backtest, read_series

START = datetime(2026, 9, 1)


def write_series(path: Path, values, step=timedelta(hours=1), start=START) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            w.writerow([(start + i * step).strftime("%Y-%m-%d %H:%M:%S"), int(v)])


def daily_series(days: int, seed: int = 1, spikes=()) -> list[int]:
    """Hourly calls with a day/night rhythm, fewer on days off (the National Day
    week is in the range), and planted spikes (hour index -> multiplier)."""
    from voc import calendar

    rng = np.random.default_rng(seed)
    out = []
    for h in range(days * 24):
        at = START + timedelta(hours=h)
        level = 2 + 18 * max(0.0, np.sin(np.pi * (at.hour - 7) / 15)) if 7 <= at.hour <= 22 else 2
        if not calendar.is_workday(at.date()):
            level *= 0.5
        level *= dict(spikes).get(h, 1.0)
        out.append(int(rng.poisson(level)))
    return out


def test_a_spike_is_found_and_holidays_are_not(tmp_path):
    # GIVEN 6 weeks of hourly counts spanning the National Day holiday, one 4x hour
    spike_h = 24 * 36 + 11
    path = tmp_path / "calls.csv"
    write_series(path, daily_series(42, spikes=[(spike_h, 4.0)]))
    points, step = read_series(path)
    # WHEN it is backtested
    alerts = backtest(points, step)
    # THEN the step is inferred and the spike is the only alert
    assert step == timedelta(hours=1)
    assert [a.at for a in alerts] == [START + timedelta(hours=spike_h)]
    assert alerts[0].value > 3 * alerts[0].expected


def test_alerts_on_a_truncated_file_equal_the_full_runs_up_to_the_cut(tmp_path):
    # GIVEN a series with several spikes, and the same file cut at each of them
    spikes = [(24 * 10 + 12, 4.0), (24 * 20 + 15, 3.5), (24 * 30 + 10, 5.0)]
    values = daily_series(40, seed=3, spikes=spikes)
    full = tmp_path / "full.csv"
    write_series(full, values)
    full_alerts = backtest(*read_series(full))
    assert len(full_alerts) >= 3
    for cut in (24 * 10 + 12, 24 * 20 + 16, 24 * 30 + 10, 24 * 35):
        part = tmp_path / f"cut{cut}.csv"
        write_series(part, values[: cut + 1])
        # WHEN the truncated file is backtested
        cut_alerts = backtest(*read_series(part))
        # THEN its alerts are exactly the full run's alerts up to the cut
        last = START + timedelta(hours=cut)
        assert cut_alerts == [a for a in full_alerts if a.at <= last]


def test_cli_writes_one_row_per_alert(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "alerts.csv"
    write_series(src, daily_series(21, spikes=[(24 * 15 + 14, 5.0)]), step=timedelta(hours=1))
    result = CliRunner().invoke(
        main, ["detect", "backtest", "--input", str(src), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    with open(out) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["timestamp", "value", "expected", "score"]
    assert rows[0]["timestamp"] == (START + timedelta(hours=24 * 15 + 14)).strftime(
        "%Y-%m-%d %H:%M:%S"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,value\n2026-01-01 00:00:00,1\n", "missing column"),
        ("timestamp,value\n2026/01/01,1\n2026/01/02,1\n", "YYYY-MM-DD HH:MM:SS"),
        ("timestamp,value\n2026-01-01 00:00:00,x\n", "not a number"),
        ("timestamp,value\n2026-01-01 01:00:00,1\n2026-01-01 00:00:00,1\n", "is not after"),
        ("timestamp,value\n2026-01-01 00:00:00,1\n", "at least two rows"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(BacktestError, match=message):
        read_series(path)
