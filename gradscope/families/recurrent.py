"""The recurrent family: Elman, Jordan, LSTM and GRU nets on sequence tasks, probed through
time (`gradscope.probes.probe`: hidden gradients, Jacobians, gates, spectra)."""
from __future__ import annotations

from gradscope.config.errors import ConfigError
from gradscope.config.run_config import MAX_LAYERS, RECURRENT_ARCHITECTURES
from gradscope.families.family import Family

RECURRENT_INITS = ("default", "orthogonal", "identity")


def check(c) -> None:
    if c.forget_bias is not None and c.arch != "lstm":
        raise ConfigError("forget_bias", "only an LSTM has a forget gate")
    if c.nonlinearity == "sigmoid":
        raise ConfigError("nonlinearity", "sigmoid is for lenet, cnn and mlp; a recurrent net takes tanh or relu")
    if c.nonlinearity == "relu" and c.arch not in ("rnn", "jordan"):
        raise ConfigError("nonlinearity", f"{c.arch} has fixed nonlinearities; relu applies to rnn and jordan")
    if c.init not in RECURRENT_INITS:
        raise ConfigError("init", f"{c.init} is for lenet, cnn and mlp; a recurrent net takes "
                          f"{', '.join(RECURRENT_INITS)}")
    if not 1 <= c.layers <= MAX_LAYERS:
        raise ConfigError("layers", f"{c.layers!r} is out of range: a recurrent net stacks between 1 and "
                          f"{MAX_LAYERS} layers")
    if c.tbptt and c.bidirectional:
        raise ConfigError("tbptt", "truncated BPTT needs the whole future for the reverse direction; "
                          "turn off --bidirectional or use full BPTT (0)")
    if c.bidirectional and c.task == "charlm":
        raise ConfigError("bidirectional", "a language model must not see the characters it predicts; "
                          "the reverse direction would read them")
    if c.task == "adding" and c.seq_len < 2:
        raise ConfigError("seq_len", "the adding problem needs T of at least 2 to hold its two markers")


def build_model(config, task):
    import torch

    from gradscope.models.init import initialise
    from gradscope.models.recurrent import RecurrentNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = RecurrentNet(config.arch, task.input_size, config.hidden, task.output_size,
                             layers=config.layers, bidirectional=config.bidirectional,
                             nonlinearity=config.nonlinearity, many_to_many=task.many_to_many)
        generator = torch.Generator().manual_seed(config.seed + 1)
        initialise(model, config, generator)
    return model


def forward(model, inputs, config):
    from gradscope.training.truncated import truncated_forward

    return truncated_forward(model, inputs, config.tbptt)


def probe(model, task, inputs, targets, seed: int = 0):
    from gradscope.probes.probe import Probe

    return Probe(model, task, inputs, targets, seed=seed)


def layer_shapes(config, task) -> list:
    """(T, H) per recurrent layer ((T, 2H) bidirectional), then the readout's."""
    from gradscope.models.shapes import LayerShape

    width = config.hidden * (2 if config.bidirectional else 1)
    shapes = [LayerShape(f"{config.arch} layer {k}", (task.length, width)) for k in range(1, config.layers + 1)]
    readout = (task.length, task.output_size) if task.many_to_many else (task.output_size,)
    return shapes + [LayerShape("readout", readout)]


def describe(c) -> str:
    layers = f" x{c.layers}" if c.layers > 1 else ""
    bidir = " bidir" if c.bidirectional else ""
    return f"{c.arch.upper()} H={c.hidden}{layers}{bidir} T={c.seq_len}"


RECURRENT = Family(
    name="recurrent", label="recurrent nets", archs=RECURRENT_ARCHITECTURES, images=False,
    series=("hidden_grad_norm", "jacobian_norm", "step_jacobian_norm", "cell_jacobian_norm",
            "activation_saturation", "gates/{gate}", "gate_saturation/{gate}", "spectral_radius/{matrix}",
            "max_singular_value/{matrix}", "sample/text", "forecast/input", "forecast/target",
            "forecast/prediction"),
    check=check, build_model=build_model, forward=forward, probe=probe, layer_shapes=layer_shapes,
    describe=describe)
