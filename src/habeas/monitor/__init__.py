"""The monitor: departure feeds' events matched to persons and cases in near real time.

Events arrive three ways (``POST /events/{source}``, a watched folder, a NATS JetStream
consumer) and land in one inbox in the operational store, keyed by the feed and its own
event id, with their effect in the same transaction. ``intake`` checks a batch against
the feed's declaration, ``matching`` links each event to a person with the trained
model, ``rules`` decides (pure) what a link may do, and ``effects`` does it.
"""
