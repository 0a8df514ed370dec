"""Custody: facilities and capacity, placements and transfers, removal transport."""
