"""Fix verification accuracy against the simulator's truth (issue 12):
`voc eval verification` on 3 seeds x 9 days x 3 planted fixes (one decoy each).
Prints one JSON line."""

from __future__ import annotations

import json

from voc.evaluation.verification import evaluate_verification


def main() -> None:
    result = evaluate_verification([1, 2, 3], days=9, fixes=3)
    print(
        json.dumps(
            {
                "name": "fix_verification",
                "verification_accuracy": result["verification_accuracy"],
                "fixes": result["fixes"],
                "effective_verified": result["effective_verified"],
                "effective": result["effective"],
                "decoys_verified": result["decoys_verified"],
                "decoys": result["decoys"],
                "median_hours_release_to_verified": result["median_hours_release_to_verified"],
                "seconds": result["seconds"],
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
