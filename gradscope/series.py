"""The series registry: every name a step record can hold, declared once.

Each declaration says what the series is: scalar or array; its axes (an array of `timestep`
values, of `timestep` x `unit`, ...); how it is summarised over training (`summary`); its
label and unit. The probes and the trainer emit these names, the panels, the exports and the
bench take them from here, and the reader can check a recorded array's rank against its axes.

Names are paths. A part in braces is a placeholder for one segment (`gates/{gate}` holds
`gates/forget`), and a `layered` series of a stacked or bidirectional model also comes as
`<name>/layer<k>` and `<name>/layer<k>/reverse` for the layers below the last and the reverse
directions, the plain name being the last layer's forward direction, layer 0 the first.

Summaries over training: `step` (a scalar drawn at every step it was recorded), `mean` (an
array drawn over training as its mean per probe), `profile` (an array drawn whole, as a
heatmap row per probe), `latest` (an array drawn for the newest probe only).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from gradscope.config import MAX_HIDDEN, MAX_SEQ_LEN, RECORDED_LIVE_SETTINGS, SETTINGS

AXES = ("timestep", "layer", "unit", "channel", "class", "character", "output", "pixel", "image")
# the longest any axis gets in a run gradscope can record: a recorded array longer than this
# is a file's lie, refused before anything is sized from it (the copy task's T + 2k timesteps,
# 4 gates of the widest layer, a 200-character sample with room to spare)
AXIS_LIMITS = {"timestep": MAX_SEQ_LEN + 2 * 64, "layer": 64, "unit": 4 * MAX_HIDDEN, "channel": 4096,
               "class": 10_000, "character": 100_000, "output": 1024, "pixel": 4096, "image": 64}
SUMMARIES = ("step", "mean", "profile", "latest")
GATES = {"lstm": ("input", "forget", "candidate", "output"), "gru": ("reset", "update", "candidate")}
LAYER_SUFFIX = re.compile(r"/layer\d{1,3}(/reverse)?$")


@dataclass(frozen=True)
class SeriesSpec:
    pattern: str                    # the name, with {placeholders} for one segment each
    label: str
    axes: tuple[str, ...] = ()      # () for a scalar
    summary: str = "step"
    unit: str = ""
    layered: bool = False           # also comes per layer and direction (see the module's doc)
    every_step: bool = False        # a scalar of every step, not only of probed ones

    @property
    def kind(self) -> str:
        return "scalar" if not self.axes else "array"

    @property
    def rank(self) -> int:
        return len(self.axes)

    def name(self, **parts: str) -> str:
        """The series name with its placeholders filled: GATE.name(gate="forget")."""
        return self.pattern.format(**parts)


def _declare(*specs: SeriesSpec) -> dict[str, SeriesSpec]:
    return {spec.pattern: spec for spec in specs}


SERIES = _declare(
    # every step, from the trainer
    SeriesSpec("loss", "training loss", every_step=True),
    SeriesSpec("grad_norm", "gradient norm before clipping", unit="‖∇θ L‖", every_step=True),
    SeriesSpec("grad_norm_clipped", "gradient norm after clipping", unit="‖∇θ L‖", every_step=True),
    SeriesSpec("clipped", "clipping fired (0 or 1)", every_step=True),
    # the numeric live settings in force (gradscope.config.RECORDED_LIVE_SETTINGS)
    *(SeriesSpec(name, f"{SETTINGS[name].label} in force", every_step=True) for name in RECORDED_LIVE_SETTINGS),
    SeriesSpec("metric/{metric}", "task metric", every_step=True),
    SeriesSpec("param_grad_norm/{param}", "gradient norm of one parameter tensor", every_step=True),
    # every probe, from the probes
    SeriesSpec("hidden_grad_norm", "‖dL/dh_t‖, the error signal reaching timestep t", ("timestep",), "profile",
               layered=True),
    SeriesSpec("jacobian_norm", "‖dh_T/dh_t‖, the long-range Jacobian", ("timestep",), "latest", layered=True),
    SeriesSpec("step_jacobian_norm", "‖dh_t/dh_t−1‖, the local expansion", ("timestep",), "latest", layered=True),
    SeriesSpec("cell_jacobian_norm", "the LSTM's cell path ∏ f_k", ("timestep",), "latest", layered=True),
    SeriesSpec("activation_saturation", "saturated units of the nonlinearity", ("timestep",), "mean",
               unit="fraction", layered=True),
    SeriesSpec("gates/{gate}", "gate activations of the first probe sequence", ("timestep", "unit"), "latest",
               layered=True),
    SeriesSpec("gate_saturation/{gate}", "saturated units of a gate", ("timestep",), "mean", unit="fraction",
               layered=True),
    SeriesSpec("spectral_radius/{matrix}", "spectral radius ρ of a recurrent weight block", layered=True),
    SeriesSpec("max_singular_value/{matrix}", "largest singular value σ_max of a recurrent weight block",
               layered=True),
    SeriesSpec("sample/text", "the char LM's sample, as Unicode code points", ("character",), "latest"),
    SeriesSpec("forecast/input", "the first probe sequence", ("timestep",), "latest"),
    SeriesSpec("forecast/target", "the true next value", ("output",), "latest"),
    SeriesSpec("forecast/prediction", "the model's forecast of it", ("output",), "latest"),
    # every probe of a convolutional or dense run (gradscope.probes.depth and .evaluation); a
    # layer axis counts from the input, layer 0 first; weight_grad_norm has one entry more,
    # the classifier's weight, last
    SeriesSpec("layer_grad_norm", "‖dL/d(output of layer l)‖, the error signal reaching layer l", ("layer",),
               "profile"),
    SeriesSpec("weight_grad_norm", "‖dL/dW_l‖ of each layer's weight, the classifier's last", ("layer",),
               "profile"),
    SeriesSpec("activation_norm", "‖output of layer l‖", ("layer",), "mean"),
    SeriesSpec("dead_fraction", "dead (ReLU) or saturated (tanh, sigmoid) units of layer l", ("layer",), "mean",
               unit="fraction"),
    SeriesSpec("filters/layer{k}", "the filters of conv layer k", ("channel", "channel", "pixel", "pixel"),
               "latest"),
    SeriesSpec("feature_maps/layer{k}", "the feature maps of the probe image at conv layer k",
               ("channel", "pixel", "pixel"), "latest"),
    # the test strip the probe image is picked from (gradscope.probes.strip)
    SeriesSpec("strip/images", "the test strip: the first test image of each class", ("image", "channel", "pixel",
                                                                                        "pixel"), "latest"),
    SeriesSpec("strip/labels", "the true class of each strip image", ("image",), "latest"),
    SeriesSpec("strip/probabilities", "the class probabilities the net gives each strip image", ("image", "class"),
               "latest", unit="probability"),
    SeriesSpec("strip/probed", "1 for the strip image the feature maps are of, 0 for the others", ("image",),
               "latest"),
    SeriesSpec("test_accuracy", "accuracy on the test split", unit="fraction"),
    SeriesSpec("confusion", "test images by true class (rows) and predicted class (columns)", ("class", "class"),
               "latest", unit="images"),
)

METRICS = {"accuracy": "accuracy", "mse": "MSE", "baseline_mse": "MSE of repeating the last value",
           "bits_per_char": "bits per character", "unigram_bits_per_char": "bits per character of letter frequencies"}

LOSS, GRAD_NORM, GRAD_NORM_CLIPPED, CLIPPED = (SERIES[name] for name in ("loss", "grad_norm", "grad_norm_clipped",
                                                                          "clipped"))
CLIP_THRESHOLD, LR = SERIES["clip_threshold"], SERIES["lr"]
METRIC, PARAM_GRAD_NORM = SERIES["metric/{metric}"], SERIES["param_grad_norm/{param}"]
HIDDEN_GRAD_NORM, JACOBIAN_NORM = SERIES["hidden_grad_norm"], SERIES["jacobian_norm"]
STEP_JACOBIAN_NORM, CELL_JACOBIAN_NORM = SERIES["step_jacobian_norm"], SERIES["cell_jacobian_norm"]
ACTIVATION_SATURATION = SERIES["activation_saturation"]
GATE, GATE_SATURATION = SERIES["gates/{gate}"], SERIES["gate_saturation/{gate}"]
SPECTRAL_RADIUS, MAX_SINGULAR_VALUE = SERIES["spectral_radius/{matrix}"], SERIES["max_singular_value/{matrix}"]
SAMPLE_TEXT = SERIES["sample/text"]
FORECAST_INPUT, FORECAST_TARGET, FORECAST_PREDICTION = (SERIES[name] for name in (
    "forecast/input", "forecast/target", "forecast/prediction"))
LAYER_GRAD_NORM, WEIGHT_GRAD_NORM = SERIES["layer_grad_norm"], SERIES["weight_grad_norm"]
ACTIVATION_NORM, DEAD_FRACTION = SERIES["activation_norm"], SERIES["dead_fraction"]
FILTERS, FEATURE_MAPS = SERIES["filters/layer{k}"], SERIES["feature_maps/layer{k}"]
TEST_ACCURACY, CONFUSION = SERIES["test_accuracy"], SERIES["confusion"]
STRIP_IMAGES, STRIP_LABELS = SERIES["strip/images"], SERIES["strip/labels"]
STRIP_PROBABILITIES, STRIP_PROBED = SERIES["strip/probabilities"], SERIES["strip/probed"]


def _matcher(spec: SeriesSpec) -> re.Pattern:
    parts = re.split(r"(\{[a-z_]+\})", spec.pattern)
    body = "".join("[^/]{1,200}" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{body}$")


_MATCHERS = [(spec, _matcher(spec)) for spec in SERIES.values()]


def lookup(name: str) -> SeriesSpec | None:
    """The declaration of a recorded series name, or None for a name nobody declared."""
    if not isinstance(name, str) or len(name) > 400:
        return None
    bare = LAYER_SUFFIX.sub("", name)
    for spec, matcher in _MATCHERS:
        if matcher.match(name) or (spec.layered and bare != name and matcher.match(bare)):
            return spec
    return None


def shape_problem(name: str, kind: str, shape: tuple[int, ...]) -> str | None:
    """What is wrong with a recorded series' kind and per-step shape, against its declaration
    (None: nothing, or a name nobody declared)."""
    spec = lookup(name)
    if spec is None:
        return None
    if spec.kind != kind or len(shape) != spec.rank:
        axes = " x ".join(spec.axes) or "a scalar"
        return f"is {kind} of shape {list(shape)[:8]}, but it is declared as {axes}"
    for axis, length in zip(spec.axes, shape):
        if length > AXIS_LIMITS[axis]:
            return f"declares {length:,} along its {axis} axis; no run has more than {AXIS_LIMITS[axis]:,}"
    return None


def layer_suffix(layer: int, direction: int, layers: int) -> str:
    """'' for the last layer's forward direction, else '/layer<k>' or '/layer<k>/reverse'."""
    if layer == layers - 1 and direction == 0:
        return ""
    return f"/layer{layer}" + ("/reverse" if direction else "")


# `latest` arrays also kept at a few probes spread over training, for a strip of snapshots
# (`gradscope.lab.snapshots`): the first conv layer's filters, small enough to load whole
SNAPSHOTTED = ("filters/layer0",)


def loaded_over_training(name: str) -> bool:
    """Array series a replay loads for every probe: those drawn over training and the snapshotted."""
    return drawn_over_training(name) or name in SNAPSHOTTED


def is_plain(name: str) -> bool:
    """The last layer's forward direction (no layer suffix): what the panels draw."""
    return LAYER_SUFFIX.search(name) is None


def drawn_over_training(name: str) -> bool:
    """Array series a replay loads for every probe: those drawn over training (`mean` and
    `profile`); the `latest` ones are read for the probe on show only."""
    spec = lookup(name)
    return spec is not None and spec.kind == "array" and spec.summary in ("mean", "profile") and is_plain(name)


def metric_label(name: str) -> str:
    """"metric/bits_per_char" or "bits_per_char" -> "bits per character"."""
    short = name.split("/", 1)[1] if name.startswith("metric/") else name
    return METRICS.get(short, short.replace("_", " "))
