"""Redress (safeguard 9): disputes on a person's records, links and flags, with the
Privacy Act's clocks; corrections that supersede a value and travel to every decision
and every earlier recipient; statements of disagreement that travel with the record."""
