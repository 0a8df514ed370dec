"""The synthetic world: people, what ten agencies' systems hold about them, ground truth."""
