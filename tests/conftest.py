"""Suite-wide settings. The CI machine has 2 cores shared by the broker, dbt and
Beam: hypothesis runs without per-example deadlines there."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "voc",
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("voc")
