"""Does the simulator leak the tagger's strings? The share of on-topic simulated
contacts whose text contains one of its true scenario's catalog keywords, names
or customer examples verbatim (voc.evaluation.text_overlap); the text generator
never reads them (tests/simulate/test_simulate_honesty.py), so what is left is
chance.

Prints one JSON line:
{"name": "simulator_verbatim_overlap", "overlap_rate": ..., "n": ..., "overlapping": ...}

    python benchmarks/bench_simulator_honesty.py [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from voc.catalog import load_catalog
from voc.evaluation.catalog_holdout import read_contacts
from voc.evaluation.text_overlap import overlap_rate
from voc.simulate import simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sim = Path(tmp) / "sim"
        simulate(sim, days=args.days, seed=args.seed, malformed_rate=0.0)
        contacts = read_contacts(sim, journeys=False)
        out = overlap_rate(((c.text, c.scenario_id) for c in contacts), load_catalog())
    print(
        json.dumps(
            {"name": "simulator_verbatim_overlap", "days": args.days, "seed": args.seed, **out}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
