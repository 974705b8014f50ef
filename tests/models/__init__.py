"""Models that live outside engine/models/, registered by tests (engine.spec.cards.register)."""
