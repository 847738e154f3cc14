"""Build script for the one thing pyproject.toml cannot declare: the optional C masking core.

``optional=True``: without a C compiler (or Python headers) the build prints a warning and the
package installs without ``privacy._core``; ``privacy.ipmask`` then uses the pure-Python
reference, and ``log-anonymiser --version`` says so.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "privacy._core",
            sources=["privacy/_core.c"],
            extra_compile_args=["-O3", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)
