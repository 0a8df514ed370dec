"""The evidence packet: everything behind the decisions about one person, for counsel and a
court — one JSON (the single source, validated against a published schema), rendered to
HTML and to a Bates-numbered PDF/A-3b, certified with the store's signing key, and
reproducible as of any past moment."""

SCHEMA_VERSION = "1.0"
"""The version of ``packet.schema.json`` the packets follow."""
