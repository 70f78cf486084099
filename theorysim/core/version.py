"""The package version, in one place (the floor: anything may read it)."""
__version__ = "0.1.0"
