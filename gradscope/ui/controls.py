"""The control side: every run setting in pyqtgraph's parameter tree, each with a tooltip that
says what it does to the gradients. A value the engine's validation refuses never leaves the
control: it snaps back and the reason is shown under the tree."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pyqtgraph.parametertree import Parameter, ParameterTree

from gradscope.config import (ARCHITECTURES, CLIP_MODES, DEVICES, INITS, NONLINEARITIES, OPTIMIZERS, TASKS,
                              ConfigError, RunConfig)
from gradscope.ui import theme

# settings that change the running trainer at its next step; every other one starts a new run
LIVE_SETTINGS = ("lr", "clip_mode", "clip_threshold")

LABELS = {"arch": "architecture", "seq_len": "sequence length T", "hidden": "hidden size H", "layers": "layers",
          "bidirectional": "bidirectional", "nonlinearity": "nonlinearity", "init": "initialisation",
          "rho": "rho (weight scale)", "task": "task", "text": "text file (char LM)", "csv": "CSV file",
          "optimizer": "optimiser", "lr": "learning rate", "batch": "batch size", "clip_mode": "clipping",
          "clip_threshold": "clip threshold", "tbptt": "truncation window k", "seed": "seed",
          "probe_every": "probe every (0: auto)", "probe_batch": "probe sequences", "steps": "steps",
          "device": "device", "temperature": "sampling temperature"}

TIPS = {
    "task": "What the network learns. Adding, copy and delayed recall need memory across the whole sequence, "
            "so the gradient must survive the trip back; sine and CSV forecast the next value; the char LM "
            "writes text.",
    "text": "A UTF-8 text file for the char LM (empty: the bundled sonnets).",
    "csv": "A CSV file with a numeric column to forecast.",
    "seq_len": "T, the number of timesteps. The error signal is multiplied by one step Jacobian per timestep: "
               "longer sequences vanish or explode further.",
    "arch": "RNN: one tanh Jacobian per step, the textbook vanishing/exploding case. Jordan: feedback from the "
            "output. LSTM: a cell path through the forget gate that carries the gradient. GRU: an update gate "
            "that does the same.",
    "hidden": "H, the size of the hidden state; the step Jacobians are H x H (2H x 2H for an LSTM).",
    "layers": "Stacked layers: the gradient also crosses the layers on its way down.",
    "bidirectional": "A second RNN reads the sequence backwards; its gradient flows the other way in time.",
    "nonlinearity": "tanh squashes (its derivative is at most 1, so saturation kills the gradient); relu does not "
                    "saturate but can explode.",
    "init": "orthogonal: W_hh with all singular values equal to rho. identity: W_hh = rho I (the IRNN). "
            "default: torch's uniform initialisation.",
    "rho": "The scale of W_hh. Below 1 the gradient vanishes like rho^t, above 1 it can explode like rho^t.",
    "optimizer": "The update rule. Adam and RMSprop rescale each gradient, so an exploding norm hurts less "
                 "than with plain SGD.",
    "lr": "The step size; applies from the next training step. Too large and the run diverges to NaN.",
    "batch": "Sequences per training step.",
    "clip_mode": "norm: rescale the whole gradient when its norm passes the threshold. value: clamp each "
                 "component. Applies from the next step.",
    "clip_threshold": "The largest gradient norm (or component) let through; drag the red line on the gradient "
                      "norm plot to change it live.",
    "tbptt": "Truncated BPTT: the gradient stops after k steps back (0: full BPTT through all T steps).",
    "seed": "Seeds the weights and the data, so a run can be repeated exactly.",
    "probe_every": "How often the gradient profile is measured, in training steps. 0 keeps the probes' cost "
                   "automatically near a fifth of the training time.",
    "probe_batch": "How many sequences each probe measures (norms are averaged over them).",
    "steps": "How many training steps the run takes before it finishes.",
    "device": "Where training runs. auto takes a CUDA GPU when there is one, else the CPU.",
    "temperature": "How adventurous the char LM's samples are: low is safe and repetitive, high is wild.",
}

GROUPS = (
    ("Task", ("task", "seq_len", "text", "csv", "temperature")),
    ("Model", ("arch", "hidden", "layers", "bidirectional", "nonlinearity", "init", "rho")),
    ("Training", ("optimizer", "lr", "batch", "tbptt", "seed", "steps", "device")),
    ("Clipping", ("clip_mode", "clip_threshold")),
    ("Probes", ("probe_every", "probe_batch")),
)

CHOICES = {"task": TASKS, "arch": ARCHITECTURES, "nonlinearity": NONLINEARITIES, "init": INITS,
           "optimizer": OPTIMIZERS, "clip_mode": CLIP_MODES, "device": DEVICES}


def _spec(name: str, config: RunConfig) -> dict:
    value = getattr(config, name)
    spec = {"name": name, "title": LABELS[name], "tip": TIPS[name], "value": value}
    if name in CHOICES:
        spec.update(type="list", limits=list(CHOICES[name]))
    elif name in ("text", "csv"):
        spec.update(type="str", value=value or "")
    elif isinstance(value, bool):
        spec["type"] = "bool"
    elif isinstance(value, int):
        spec.update(type="int", limits=(0, None))
    else:
        spec["type"] = "float"
        if name in ("lr", "clip_threshold"):
            spec.update(dec=True, step=0.5, minStep=1e-6, siPrefix=False)
        else:
            spec.update(step=0.05)
    return spec


class ControlPanel(QWidget):
    config_changed = Signal(object, str)     # the new RunConfig, and the setting that changed
    setting_refused = Signal(str)            # why a value was refused

    def __init__(self, config: RunConfig, parent: QWidget | None = None):
        super().__init__(parent)
        self.config = config
        children = [{"name": group, "type": "group", "children": [_spec(name, config) for name in names]}
                    for group, names in GROUPS]
        self.parameters = Parameter.create(name="settings", type="group", children=children)
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(self.parameters, showTop=False)
        self.tree.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.COLORS['red']}; font-size: {theme.FONT_POINTS}pt;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        self._params = {child.name(): child for group in self.parameters.children() for child in group.children()}
        self.parameters.sigTreeStateChanged.connect(self._on_tree_changed)

    def parameter(self, name: str) -> Parameter:
        return self._params[name]

    def set_value(self, name: str, value) -> bool:
        """Set a control as if the user had; returns whether it was accepted."""
        self._params[name].setValue(value)
        return getattr(self.config, name) == (value if name not in ("text", "csv") else (value or None))

    def show_config(self, config: RunConfig) -> None:
        """Show `config` in the controls without treating it as the user's change."""
        self.config = config
        self.parameters.sigTreeStateChanged.disconnect(self._on_tree_changed)
        try:
            for name, param in self._params.items():
                value = getattr(config, name)
                param.setValue(value if value is not None else "")
        finally:
            self.parameters.sigTreeStateChanged.connect(self._on_tree_changed)

    def _on_tree_changed(self, root, changes) -> None:
        for param, change, value in changes:
            if change != "value" or param.name() not in self._params:
                continue
            name = param.name()
            if name in ("text", "csv"):
                value = str(value).strip() or None
            if value == getattr(self.config, name):
                continue
            try:
                config = self.config.replace(**{name: value})
            except ConfigError as error:
                self._refuse(name, error)
                continue
            self.message.hide()
            self.config = config
            self.config_changed.emit(config, name)

    def _refuse(self, name: str, error: ConfigError) -> None:
        text = f"{LABELS.get(error.option, error.option)}: {error.problem}"
        self.message.setText(f"Refused — {text}")
        self.message.show()
        self.show_config(self.config)          # the control snaps back to the value in force
        self.setting_refused.emit(text)
