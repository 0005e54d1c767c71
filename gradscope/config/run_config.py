"""The frozen run configuration: every setting a run needs, each declared once, validated.

A `RunConfig` is the whole recipe of a run. It is stored as JSON in the session file, so that
`gradscope.models.build(config)` and `gradscope.tasks.build(config)` can rebuild the model and
the data of any recorded run. Each field carries its declaration (`gradscope.config.declaration`):
label, tooltip, group, range, unit, whether it applies live, and which architecture families
read it. Values are checked one by one from those declarations (`gradscope.config.values`); the
rules that tie settings together are in `gradscope.config.rules` and in each family's own
check (`gradscope.families`).

The fields are one flat namespace (one `--option`, one TOML key, one row of the settings tree
each), and a run's configuration is its common fields plus its family's section: `common()`
and `section()` split it so, and the stored form (`gradscope.config.stored`) is written that
way, with a version, so that every earlier session file still opens.

Four fields are shared by families where the meaning carries over, each checked per family:
`nonlinearity` (recurrent: tanh or relu; conv and dense: relu, tanh or sigmoid), `init`
(recurrent: default, orthogonal, identity; conv and dense: default, kaiming, xavier),
`layers` (recurrent: 1 to 3 stacked layers; mlp: 0 to 4 hidden layers) and `hidden`
(recurrent: the state size H; mlp: the width of each hidden layer).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from gradscope.config.declaration import declared, setting
from gradscope.config.errors import ConfigError
from gradscope.config.values import check_value, coerce

RECURRENT_ARCHITECTURES = ("rnn", "jordan", "lstm", "gru")
ARCH_FAMILIES = {"rnn": "recurrent", "jordan": "recurrent", "lstm": "recurrent", "gru": "recurrent",
                 "lenet": "conv", "cnn": "conv", "mlp": "dense"}
ARCHITECTURES = tuple(ARCH_FAMILIES)
SEQUENCE_TASKS = ("adding", "copy", "recall", "sine", "charlm", "csv")
IMAGE_TASKS = ("digits", "mnist", "images")
TASKS = SEQUENCE_TASKS + IMAGE_TASKS
NONLINEARITIES = ("tanh", "relu", "sigmoid")
INITS = ("default", "orthogonal", "identity", "kaiming", "xavier")
POOLS = ("max", "avg", "none")
OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
CLIP_MODES = ("none", "norm", "value")
DEVICES = ("cpu", "cuda", "auto")

MAX_HIDDEN = 512
MAX_LAYERS = 3            # stacked recurrent layers
MAX_HIDDEN_LAYERS = 4     # an mlp's hidden layers
MAX_DEPTH = 20            # a cnn's conv layers
MAX_SEQ_LEN = 5000
MAX_BATCH = 4096
MAX_STEPS = 10_000_000
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 4, 128   # as gradscope.tasks.images reads them (a test checks)

RECURRENT, CONV, DENSE = ("recurrent",), ("conv",), ("dense",)
IMAGE_FAMILIES = ("conv", "dense")


@dataclass(frozen=True)
class RunConfig:
    # -- task -------------------------------------------------------------------------------
    task: str = setting(
        "adding", "task", group="Task", choices=TASKS,
        tip="What the network learns. Adding, copy and delayed recall need memory across the whole sequence, "
            "so the gradient must survive the trip back; sine and CSV forecast the next value; the char LM "
            "writes text. digits (8x8, bundled), mnist (28x28, 5,000 bundled) and images (your own) are "
            "image classification, for lenet, cnn and mlp.")
    seq_len: int = setting(
        50, "sequence length T", group="Task", low=1, high=MAX_SEQ_LEN, unit="timesteps", symbol="T",
        families=RECURRENT,
        tip="T, the number of timesteps (the delay for copy). The error signal is multiplied by one step "
            "Jacobian per timestep: longer sequences vanish or explode further.")
    copy_symbols: int = setting(
        8, "copy symbols", group="Task", low=1, high=64, window=False, families=RECURRENT,
        tip="How many symbols the copy task asks the network to remember.")
    text: str | None = setting(
        None, "text file (char LM)", group="Task", path=True, families=RECURRENT,
        tip="A UTF-8 text file for the char LM (empty: Shakespeare's sonnets, bundled).")
    csv: str | None = setting(
        None, "CSV file", group="Task", path=True, families=RECURRENT,
        tip="A CSV file with a time series for the csv task.")
    csv_column: str | None = setting(
        None, "CSV column", group="Task", window=False, families=RECURRENT,
        tip="The column of the CSV to forecast (default: the last numeric one).")
    temperature: float = setting(
        0.8, "sampling temperature", group="Task", low=0, low_open=True, high=100, families=RECURRENT,
        tip="How adventurous the char LM's samples are: low is safe and repetitive, high is wild.")
    images: str | None = setting(
        None, "your images", group="Task", path=True, families=IMAGE_FAMILIES,
        tip="For the images task: a folder with one sub-folder of PNG or JPEG files per class, or an .npz of "
            "images and labels.")
    image_size: int = setting(
        0, "image size", group="Task", low=0, high=MAX_IMAGE_SIZE, unit="pixels",
        families=IMAGE_FAMILIES,
        tip=f"The side the images are resized to, {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE} (0: digits keep 8, mnist "
            "and an .npz their own size, a folder's images become 28x28).")
    # -- model ------------------------------------------------------------------------------
    arch: str = setting(
        "rnn", "architecture", group="Model", choices=ARCHITECTURES,
        tip="rnn (Elman): one tanh Jacobian per step, the textbook vanishing and exploding case. jordan: "
            "feedback from the output. lstm: a cell path through the forget gate that carries the gradient. "
            "gru: an update gate that does the same. lenet: conv, pool, conv, pool, dense. cnn: a deep "
            "plain or residual CNN. mlp: a dense net on the flattened image.")
    hidden: int = setting(
        32, "hidden size H", group="Model", low=2, high=MAX_HIDDEN, unit="units", symbol="H",
        families=RECURRENT + DENSE,
        tip="H, the size of the hidden state; the step Jacobians are H x H (2H x 2H for an LSTM). For an "
            "mlp, the width of each hidden layer.")
    layers: int = setting(
        1, "layers", group="Model", low=0, high=MAX_HIDDEN_LAYERS, families=RECURRENT + DENSE,
        tip="Stacked layers: the gradient also crosses the layers on its way down (1 to 3). For an mlp, its "
            "hidden layers (0 to 4; 0 is a linear classifier).")
    bidirectional: bool = setting(
        False, "bidirectional", group="Model", families=RECURRENT,
        tip="A second RNN reads the sequence backwards; its gradient flows the other way in time.")
    nonlinearity: str = setting(
        "tanh", "nonlinearity", group="Model", choices=NONLINEARITIES,
        tip="tanh squashes (its derivative is at most 1, so saturation kills the gradient); relu does not "
            "saturate but can explode; sigmoid squashes harder still (lenet, cnn and mlp). Applies to rnn and "
            "jordan among the recurrent nets.")
    init: str = setting(
        "default", "initialisation", group="Model", choices=INITS,
        tip="orthogonal: W_hh with all singular values equal to rho. identity: W_hh = rho I (the IRNN). "
            "kaiming and xavier (lenet, cnn, mlp): He or Glorot scaling of each layer's weights. default: "
            "torch's uniform initialisation, which is not He init: a plain ReLU CNN vanishes with it.")
    rho: float = setting(
        1.0, "rho (weight scale)", group="Model", low=0, high=1000, symbol="ρ", families=RECURRENT,
        tip="The scale of W_hh for the orthogonal and identity initialisations. Below 1 the gradient "
            "vanishes like rho^t, above 1 it can explode like rho^t.")
    forget_bias: float | None = setting(
        None, "forget-gate bias", group="Model", low=-100, high=100, window=False, families=RECURRENT,
        tip="The LSTM's forget-gate bias at initialisation (empty: torch's). A large bias keeps the gate "
            "open, so the cell path carries the gradient from the start.")
    depth: int = setting(
        8, "depth (conv layers)", group="Model", low=2, high=MAX_DEPTH, unit="layers", symbol="L", families=CONV, archs=("cnn",),
        tip="L, the cnn's conv layers. The error signal crosses every one on its way to the first: a deep "
            "plain net vanishes, a residual one does not.")
    residual: bool = setting(
        False, "residual", group="Model", families=CONV, archs=("cnn",),
        tip="Skip connections: every conv layer after the first adds its input back, an identity path for the "
            "gradient around each layer. Without it the cnn is plain.")
    channels: int = setting(
        16, "channels C", group="Model", low=1, high=512, unit="channels", symbol="C", families=CONV, archs=("cnn",),
        tip="C, the channels of every cnn conv layer.")
    kernel: int = setting(
        3, "kernel size F", group="Model", low=1, high=11, unit="pixels", symbol="F", families=CONV, archs=("cnn",),
        tip="F, the side of the cnn's square filters; a map of side N shrinks to (N + 2P - F)/S + 1.")
    stride: int = setting(
        1, "stride S", group="Model", low=1, high=4, unit="pixels", symbol="S", families=CONV, archs=("cnn",),
        tip="S, how far the cnn's filters step; a stride above 1 shrinks every layer's map.")
    padding: int = setting(
        1, "padding P", group="Model", low=0, high=10, unit="pixels", symbol="P", families=CONV, archs=("cnn",),
        tip="P, the zeros around the cnn's maps (below the kernel size); P = (F - 1)/2 keeps the size.")
    pool: str = setting(
        "max", "pooling", group="Model", choices=POOLS, families=CONV,
        tip="2x2 pooling: lenet after each conv, cnn after its first layer and after half its depth. none "
            "keeps the maps full size.")
    batch_norm: bool = setting(
        False, "batch norm", group="Model", families=CONV, archs=("cnn",),
        tip="Batch normalisation after each cnn convolution: a plain ReLU net trains with it.")
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
        0, "truncation window k", group="Training", low=0, high=MAX_SEQ_LEN, unit="timesteps", families=RECURRENT,
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
        tip="The largest gradient norm (or component) let through; drag the threshold line on the gradient norm "
            "plot to change it live.")
    # -- probes and recording ---------------------------------------------------------------
    probe_every: int = setting(
        0, "probe every (0: auto)", group="Probes and recording", low=0, high=MAX_STEPS, unit="steps",
        tip="How often the gradient profile is measured, in training steps. 0 keeps the probes' cost "
            "automatically near a fifth of the training time.")
    probe_batch: int = setting(
        1, "probe sequences", group="Probes and recording", low=1, high=64, unit="sequences",
        tip="How many sequences each probe measures (norms are averaged over them).")
    # the strip holds at most ten images (gradscope.probes.strip.STRIP_SIZE; importing it here
    # would import torch into the window before its first paint)
    probe_image: int = setting(
        0, "probe image", group="Probes and recording", low=0, high=9, live=True, families=IMAGE_FAMILIES,
        tip="Which image of the test strip (one of each class) the feature maps are recorded of, counted from "
            "0. A click on an image in the Images panel sets it while the run trains.")
    checkpoint_every: int = setting(
        100, "checkpoint every", group="Probes and recording", low=1, high=MAX_STEPS, unit="steps", window=False,
        tip="Save the weights every N steps (what a fork starts from).")

    def __post_init__(self) -> None:
        for name, declaration in SETTINGS.items():
            check_value(declaration, getattr(self, name))
        from gradscope.config.rules import check_combination

        check_combination(self)

    # -- the family and its section ---------------------------------------------------------

    @property
    def family(self) -> str:
        """The architecture family of the run: recurrent, conv or dense."""
        return ARCH_FAMILIES[self.arch]

    def common(self) -> dict[str, Any]:
        """The settings every family reads."""
        return {name: getattr(self, name) for name, declaration in SETTINGS.items() if not declaration.families}

    def section(self, family: str | None = None) -> dict[str, Any]:
        """The settings `family` (default: the run's own) reads besides the common ones."""
        family = family or self.family
        return {name: getattr(self, name) for name, declaration in SETTINGS.items() if family in declaration.families}

    # -- conversions -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """The stored form, versioned (`gradscope.config.stored`)."""
        from gradscope.config.stored import stored_json

        return stored_json(self)

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
        """A stored configuration of any version gradscope has written."""
        from gradscope.config.stored import load_stored

        return load_stored(text)

    def replace(self, **changes: Any) -> RunConfig:
        return dataclasses.replace(self, **changes)


SETTINGS = declared(RunConfig)


def described(error: ConfigError) -> str:
    """A refusal in the window's words: the setting's label, then the problem."""
    declaration = SETTINGS.get(error.option)
    return f"{declaration.label if declaration else error.option}: {error.problem}"
