"""Root-cause tagging: contacts -> scenario id, confidence, method, evidence (pure, no Beam)."""
