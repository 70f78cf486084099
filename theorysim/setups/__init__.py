"""One package per theory setup: ``task.py`` (data), ``theory.py`` (closed forms), ``claims.py``."""
