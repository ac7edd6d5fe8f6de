"""Demo data: real reference data where the world is public, plausible invention elsewhere."""
