"""The package list, the one part of the build that pyproject.toml cannot say.

The top-level `resources/` folder keeps its place in the repository and is installed as the
package `gradscope.resources` (pyproject.toml's package-dir and package-data). The `find`
directive there only finds folders under their own names, so the list is made here: every
package under gradscope/, then resources/ and each folder in it (data to come, such as digits
or lessons, is picked up as it is added), except the screenshots, which are the README's
pictures, not data the program reads.
"""
from setuptools import find_namespace_packages, find_packages, setup

NOT_SHIPPED = ["screenshots", "screenshots.*", "__pycache__", "*.__pycache__"]

bundled = ["gradscope.resources"] + [f"gradscope.resources.{name}" for name in
                                     find_namespace_packages(where="resources", exclude=NOT_SHIPPED)]
setup(packages=find_packages(include=["gradscope", "gradscope.*"]) + bundled)
