"""What donors offer, its lifecycle, and the allocations that tie it to requirements."""
