"""The lifecycle's step handlers, grouped by stage: each takes the case, the event and the
list of reasons (appending to it to refuse) and returns the case after the event."""
