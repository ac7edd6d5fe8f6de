"""The recipient's prioritized needs."""
