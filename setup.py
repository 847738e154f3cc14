"""Build script: pyproject.toml holds the metadata (this file will declare the C core)."""

from setuptools import setup

setup()
