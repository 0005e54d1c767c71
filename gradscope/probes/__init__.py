"""Probes: every gradient quantity of the series registry (gradscope.series), exact, on a fixed probe batch."""
from gradscope.probes.probe import Probe

__all__ = ["Probe"]
