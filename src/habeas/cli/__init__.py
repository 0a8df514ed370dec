"""The terminal way in: thin commands over the library."""
