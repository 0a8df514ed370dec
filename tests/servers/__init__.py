"""Real servers the tests and the benchmarks start for themselves (scratch PostgreSQL and
NATS JetStream clusters in temporary folders): not part of the shipped package."""
