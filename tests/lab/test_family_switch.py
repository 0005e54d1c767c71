"""Changing the architecture or the task across families, one setting at a time as the window
does: the other of the pair, and the choices the new family does not take, come along; and
the lab's layout follows the kind of the runs on show."""
from __future__ import annotations

from gradscope.config import RunConfig
from gradscope.lab.history import RunHistory
from gradscope.lab.model import LabModel
from gradscope.lab.slots import RunSlot


def lab_of(tmp_path, **settings) -> LabModel:
    return LabModel(tmp_path, RunConfig(**settings), False)


def test_an_image_net_takes_an_image_task_and_its_own_choices_along(tmp_path):
    lab = lab_of(tmp_path, arch="rnn", init="orthogonal", rho=0.5)
    assert lab.set_setting("arch", "cnn")
    assert (lab.config.arch, lab.config.task, lab.config.init) == ("cnn", "digits", "default")
    assert lab.set_setting("nonlinearity", "sigmoid")
    assert lab.set_setting("task", "adding")                     # a sequence task: a recurrent net again
    assert (lab.config.arch, lab.config.nonlinearity) == ("rnn", "tanh")
    assert lab.set_setting("task", "mnist") and lab.config.arch == "cnn"
    assert lab.set_setting("arch", "lstm") and lab.config.task == "adding"


def test_the_layout_follows_the_kind_of_the_runs_on_show(tmp_path):
    lab = lab_of(tmp_path)
    seen = []
    lab.events.layout_changed.connect(seen.append)
    assert lab.layout == "overview"
    cnn = RunConfig(arch="cnn", task="digits", depth=4)
    lab.show_slots([RunSlot(0, cnn, RunHistory(cnn))], live=False)
    assert lab.layout == "depth" and seen == ["depth"]
    assert lab.set_layout("filters")
    lab.show_slots([RunSlot(0, cnn, RunHistory(cnn))], live=False)
    assert lab.layout == "filters"                               # a layout of the same kind stays
    rnn = RunConfig()
    lab.show_slots([RunSlot(0, rnn, RunHistory(rnn))], live=False)
    assert lab.layout == "overview"


def test_with_no_run_on_show_the_layout_follows_the_settings(tmp_path):
    lab = lab_of(tmp_path)
    assert lab.set_setting("arch", "cnn") and lab.layout == "depth"      # before Run: the image layouts
    assert lab.set_setting("arch", "gru") and lab.layout == "overview"
    rnn = RunConfig()
    lab.show_slots([RunSlot(0, rnn, RunHistory(rnn))], live=False)
    assert lab.set_setting("arch", "cnn") and lab.layout == "overview"   # a run on show: its kind's
