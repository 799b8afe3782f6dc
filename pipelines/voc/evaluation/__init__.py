"""Measuring the taggers on labelled data they have never seen (pure, no Beam)."""
