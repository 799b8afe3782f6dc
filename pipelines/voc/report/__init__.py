"""The weekly issue-closure report."""
