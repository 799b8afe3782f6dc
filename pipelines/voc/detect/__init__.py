"""Breakpoint detection statistics (pure, no Beam)."""
