"""The marts' CX figures against the simulator's truth: `voc eval marts` on a
7-day simulation (seed 42). Prints one JSON line:

{"name": "marts_vs_truth", "repeat_recall": ..., "repeat_precision": ...,
 "fcr_abs_error": ..., "sla_breach_abs_error": ..., "ticket_csat_abs_error": ...,
 "call_csat_abs_error": ..., ...}

    python benchmarks/bench_marts.py [--days N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

VOC = Path(sys.executable).with_name("voc")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    cmd = [str(VOC), "eval", "marts", "--days", str(args.days), "--seed", str(args.seed), "--json"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return proc.returncode
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps({"name": "marts_vs_truth", **result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
