"""The frozen run configuration: every setting a run needs, each declared once, validated.

A `RunConfig` is the whole recipe of a run. It is stored as JSON in the session file, so that
`gradscope.models.build(config)` and `gradscope.tasks.build(config)` can rebuild the model and
the data of any recorded run. Each field carries its declaration (`gradscope.config.declaration`):
label, tooltip, group, range, unit, and whether it applies live. Values are checked one by one
from those declarations (`gradscope.config.values`); the rules that tie settings together are
in `_check_combination` below.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from gradscope.config.declaration import declared, setting
from gradscope.config.errors import ConfigError
from gradscope.config.values import check_value, coerce

ARCHITECTURES = ("rnn", "jordan", "lstm", "gru")
TASKS = ("adding", "copy", "recall", "sine", "charlm", "csv")
NONLINEARITIES = ("tanh", "relu")
INITS = ("default", "orthogonal", "identity")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
CLIP_MODES = ("none", "norm", "value")
DEVICES = ("cpu", "cuda", "auto")

MAX_HIDDEN = 512
MAX_LAYERS = 3
MAX_SEQ_LEN = 5000
MAX_BATCH = 4096
MAX_STEPS = 10_000_000


@dataclass(frozen=True)
class RunConfig:
    # -- task -------------------------------------------------------------------------------
    task: str = setting(
        "adding", "task", group="Task", choices=TASKS,
        tip="What the network learns. Adding, copy and delayed recall need memory across the whole sequence, "
            "so the gradient must survive the trip back; sine and CSV forecast the next value; the char LM "
            "writes text.")
    seq_len: int = setting(
        50, "sequence length T", group="Task", low=1, high=MAX_SEQ_LEN, unit="timesteps", symbol="T",
        tip="T, the number of timesteps (the delay for copy). The error signal is multiplied by one step "
            "Jacobian per timestep: longer sequences vanish or explode further.")
    copy_symbols: int = setting(
        8, "copy symbols", group="Task", low=1, high=64, window=False,
        tip="How many symbols the copy task asks the network to remember.")
    text: str | None = setting(
        None, "text file (char LM)", group="Task", path=True,
        tip="A UTF-8 text file for the char LM (empty: Shakespeare's sonnets, bundled).")
    csv: str | None = setting(
        None, "CSV file", group="Task", path=True,
        tip="A CSV file with a time series for the csv task.")
    csv_column: str | None = setting(
        None, "CSV column", group="Task", window=False,
        tip="The column of the CSV to forecast (default: the last numeric one).")
    temperature: float = setting(
        0.8, "sampling temperature", group="Task", low=0, low_open=True, high=100,
        tip="How adventurous the char LM's samples are: low is safe and repetitive, high is wild.")
    # -- model ------------------------------------------------------------------------------
    arch: str = setting(
        "rnn", "architecture", group="Model", choices=ARCHITECTURES,
        tip="rnn (Elman): one tanh Jacobian per step, the textbook vanishing and exploding case. jordan: "
            "feedback from the output. lstm: a cell path through the forget gate that carries the gradient. "
            "gru: an update gate that does the same.")
    hidden: int = setting(
        32, "hidden size H", group="Model", low=2, high=MAX_HIDDEN, unit="units", symbol="H",
        tip="H, the size of the hidden state; the step Jacobians are H x H (2H x 2H for an LSTM).")
    layers: int = setting(
        1, "layers", group="Model", low=1, high=MAX_LAYERS,
        tip="Stacked layers: the gradient also crosses the layers on its way down.")
    bidirectional: bool = setting(
        False, "bidirectional", group="Model",
        tip="A second RNN reads the sequence backwards; its gradient flows the other way in time.")
    nonlinearity: str = setting(
        "tanh", "nonlinearity", group="Model", choices=NONLINEARITIES,
        tip="tanh squashes (its derivative is at most 1, so saturation kills the gradient); relu does not "
            "saturate but can explode. Applies to rnn and jordan.")
    init: str = setting(
        "default", "initialisation", group="Model", choices=INITS,
        tip="orthogonal: W_hh with all singular values equal to rho. identity: W_hh = rho I (the IRNN). "
            "default: torch's uniform initialisation.")
    rho: float = setting(
        1.0, "rho (weight scale)", group="Model", low=0, high=1000, symbol="ρ",
        tip="The scale of W_hh for the orthogonal and identity initialisations. Below 1 the gradient "
            "vanishes like rho^t, above 1 it can explode like rho^t.")
    forget_bias: float | None = setting(
        None, "forget-gate bias", group="Model", low=-100, high=100, window=False,
        tip="The LSTM's forget-gate bias at initialisation (empty: torch's). A large bias keeps the gate "
            "open, so the cell path carries the gradient from the start.")
    # -- training ---------------------------------------------------------------------------
    optimizer: str = setting(
        "adam", "optimiser", group="Training", choices=OPTIMIZERS,
        tip="The update rule. Adam and RMSprop rescale each gradient, so an exploding norm hurts less "
            "than with plain SGD.")
    lr: float = setting(
        1e-3, "learning rate", group="Training", low=0, low_open=True, high=10, live=True, symbol="lr",
        tip="The step size; applies from the next training step. Too large and the run diverges to NaN.")
    momentum: float = setting(
        0.9, "momentum", group="Training", low=0, high=1, high_open=True, live=True,
        tip="The momentum of --optimizer momentum (the others take none); applies from the next training step.")
    weight_decay: float = setting(
        0.0, "weight decay", group="Training", low=0, high=1, live=True,
        tip="L2 weight decay of the update rule; applies from the next training step. It shrinks the weights, "
            "and with them the recurrent matrix's spectral radius.")
    batch: int = setting(
        32, "batch size", group="Training", low=1, high=MAX_BATCH, unit="sequences",
        tip="Sequences per training step.")
    seed: int = setting(
        0, "seed", group="Training", low=0, high=2**63 - 1,
        tip="Seeds the weights and the data, so a run can be repeated exactly.")
    device: str = setting(
        "auto", "device", group="Training", choices=DEVICES,
        tip="Where training runs. auto takes a CUDA GPU when there is one, else the CPU; cuda falls back "
            "to the CPU with a note when there is none.")
    tbptt: int = setting(
        0, "truncation window k", group="Training", low=0, high=MAX_SEQ_LEN, unit="timesteps",
        tip="Truncated BPTT: the gradient stops after k steps back (0: full BPTT through all T steps).")
    steps: int = setting(
        1000, "steps", group="Training", low=1, high=MAX_STEPS, unit="steps",
        tip="How many training steps the run takes before it finishes.")
    # -- clipping ---------------------------------------------------------------------------
    clip_mode: str = setting(
        "none", "clipping", group="Clipping", choices=CLIP_MODES, live=True, option=False,
        tip="norm: rescale the whole gradient when its norm passes the threshold. value: clamp each "
            "component. Applies from the next step. On the command line: --clip-norm X or --clip-value X.")
    clip_threshold: float = setting(
        1.0, "clip threshold", group="Clipping", low=0, low_open=True, high=1e12, live=True, option=False,
        tip="The largest gradient norm (or component) let through; drag the red line on the gradient norm "
            "plot to change it live.")
    # -- probes and recording ---------------------------------------------------------------
    probe_every: int = setting(
        0, "probe every (0: auto)", group="Probes and recording", low=0, high=MAX_STEPS, unit="steps",
        tip="How often the gradient profile is measured, in training steps. 0 keeps the probes' cost "
            "automatically near a fifth of the training time.")
    probe_batch: int = setting(
        1, "probe sequences", group="Probes and recording", low=1, high=64, unit="sequences",
        tip="How many sequences each probe measures (norms are averaged over them).")
    checkpoint_every: int = setting(
        100, "checkpoint every", group="Probes and recording", low=1, high=MAX_STEPS, unit="steps", window=False,
        tip="Save the weights every N steps (what a fork starts from).")

    def __post_init__(self) -> None:
        for name, declaration in SETTINGS.items():
            check_value(declaration, getattr(self, name))
        _check_combination(self)

    # -- conversions -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        if not isinstance(data, dict):
            raise ConfigError("config", "must be a table of settings")
        unknown = sorted(set(data) - set(SETTINGS), key=str)
        if unknown:
            raise ConfigError(str(unknown[0])[:80], "unknown setting")
        return cls(**{name: coerce(SETTINGS[name], value) for name, value in data.items()})

    @classmethod
    def from_json(cls, text: str) -> RunConfig:
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, TypeError, RecursionError) as exc:
            raise ConfigError("config", f"not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


SETTINGS = declared(RunConfig)


def described(error: ConfigError) -> str:
    """A refusal in the window's words: the setting's label, then the problem."""
    declaration = SETTINGS.get(error.option)
    return f"{declaration.label if declaration else error.option}: {error.problem}"


def _check_combination(c: RunConfig) -> None:
    """The rules between settings; each value alone was checked from its declaration."""
    if c.forget_bias is not None and c.arch != "lstm":
        raise ConfigError("forget_bias", "only an LSTM has a forget gate")
    if c.nonlinearity == "relu" and c.arch not in ("rnn", "jordan"):
        raise ConfigError("nonlinearity", f"{c.arch} has fixed nonlinearities; relu applies to rnn and jordan")
    if c.tbptt and c.bidirectional:
        raise ConfigError("tbptt", "truncated BPTT needs the whole future for the reverse direction; "
                          "turn off --bidirectional or use full BPTT (0)")
    if c.bidirectional and c.task == "charlm":
        raise ConfigError("bidirectional", "a language model must not see the characters it predicts; "
                          "the reverse direction would read them")
    if c.task == "adding" and c.seq_len < 2:
        raise ConfigError("seq_len", "the adding problem needs T of at least 2 to hold its two markers")
    if c.task == "csv" and not c.csv:
        raise ConfigError("csv", "the csv task needs a data file (--csv FILE)")
