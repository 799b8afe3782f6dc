"""Root-cause issues and fix verification."""
