"""Priorities: a written policy over declared facts, each fact traced to its records."""
