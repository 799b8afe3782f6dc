"""Joining contacts to their customer's and order's journey (pure, no Beam)."""
