"""The files gradscope ships, as the package `gradscope.resources` (pyproject.toml maps this
folder there; setup.py lists its sub-folders). Read them through `gradscope.bundled`, never by
a path beside the source tree: an installed gradscope has no source tree."""
