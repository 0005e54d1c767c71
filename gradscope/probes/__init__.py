"""Probes: every gradient quantity of DESIGN.md's table, exact, on a fixed probe batch."""
from gradscope.probes.probe import Probe

__all__ = ["Probe"]
