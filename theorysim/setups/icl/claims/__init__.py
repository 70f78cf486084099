"""The in-context-learning claims, one module per paper (each registers its claims on import)."""
