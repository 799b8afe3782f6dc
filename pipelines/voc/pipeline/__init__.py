"""The Beam job: one composite PTransform per stage, wired in job.py."""
