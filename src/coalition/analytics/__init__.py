"""Read-only analytics: totals, timelines, concentration and delivery over visible pledges."""
