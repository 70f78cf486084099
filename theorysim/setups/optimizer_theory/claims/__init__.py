"""The optimizer-theory claims, one module per paper (each registers its claims on import)."""
