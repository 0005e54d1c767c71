"""The command-line commands that do work (the parser lives in gradscope.cli)."""
