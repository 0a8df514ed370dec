"""Storage engines: the DuckDB staging store here; the operational store comes later."""
