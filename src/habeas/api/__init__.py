"""The HTTP API (FastAPI), by area: ``routes/<area>.py`` are module-level routers over one
dependency (``deps``) that reads the application from the server's state; ``auth`` says
who is calling and opens sessions; ``problems`` answers errors as RFC 9457 problem
details; ``schemas`` holds the API's own models. ``habeas.server`` assembles the API
with the pages."""
