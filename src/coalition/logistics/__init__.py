"""Logistics: sites and hubs, shipments of allocations, and the delivery events that move them."""
