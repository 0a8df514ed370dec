"""Sources: the registry of legal authority, connectors, validation, minimization, quarantine."""
