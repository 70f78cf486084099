"""The teacher-student claims, one module per paper (each registers its claims on import)."""
