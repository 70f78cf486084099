"""Sphinx configuration: the reference is generated from the docstrings (autodoc), the CLI page from
the argument parser and the sweep keys from the spec loader, so none of them can drift.

    sphinx-build -W -b html docs docs/_build/html      (tests/test_docs.py runs it with warnings as errors)
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

project = "theorysim"
author = "the theorysim developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "myst_parser"]
napoleon_google_docstring = False
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}
html_theme = "alabaster"
exclude_patterns = ["_build"]
nitpicky = False
default_role = "code"

import generate  # noqa: E402  (docs/generate.py: the CLI and sweep-key pages)

generate.write_all(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_generated"))
