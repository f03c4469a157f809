"""What runs on its own: anchoring, the chain-write outbox, the block follower, verification."""
