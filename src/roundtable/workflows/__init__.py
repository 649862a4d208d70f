"""Application layer: use cases that cross domain packages, each in one transaction."""
