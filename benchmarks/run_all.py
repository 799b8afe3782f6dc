"""Run every benchmarks/bench_*.py in turn; each prints one or more JSON lines
with a "name" key. Progress goes to stderr, figures to stdout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for bench in sorted(HERE.glob("bench_*.py")):
        print(f"[bench] {bench.name}", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(bench)], stdout=subprocess.PIPE, text=True)
        for line in proc.stdout.splitlines():
            if line.startswith("{"):
                print(line, flush=True)
        if proc.returncode != 0:
            failed.append(bench.name)
    if failed:
        print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
