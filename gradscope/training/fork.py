"""Forking a recorded run: a new run that starts at step S of run R, with other settings.

`plan_fork` reads what a fork needs from the session and checks the request: the run and its
recorded step S, the nearest checkpoint at or before S, the parent's recorded setting changes
(its `settings_changed` events) up to S, its probe batch and config, and the new live settings
and the total number of steps. Every problem is a ConfigError naming the option (run, step,
steps, lr, ...), in one line.

`start_fork` builds a Trainer that stands exactly where the parent stood at step S. A silent
twin restores the checkpoint and trains forward to S with the parent's setting changes on its
schedule, at the steps where they happened; it records, probes and emits nothing. Its state
at S (weights, optimiser, data stream, the settings in force) becomes a checkpoint that the
fork's trainer restores, and the fork's settings are scheduled at S, so its first step records
them as the usual `settings_changed` event. Record it with
`SessionRecorder(writer, parent=plan.parent)`.

The fork probes the parent's probe batch, and with a fixed cadence it probes the parent's
steps, so a fork with unchanged settings reproduces the parent's records exactly from S on.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import torch

from gradscope.config import LIVE_SETTINGS, ConfigError, LiveSettings, RunConfig
from gradscope.records import Checkpoint, EventKind, RunState
from gradscope.training import checkpoints
from gradscope.training.cadence import AutoCadence


@dataclass(frozen=True)
class ForkPlan:
    """Everything a fork needs, read from the session and checked; the file is closed."""

    parent: tuple[int, int]                   # (run id, step S) of the parent
    parent_config: RunConfig
    config: RunConfig                         # the fork's: the settings it trains with from S, its total steps
    checkpoint: Checkpoint                    # the parent's nearest at or before S, its settings made explicit
    replay: Mapping[int, Mapping[str, Any]]   # the parent's setting changes after the checkpoint, before S
    settings_at_step: Mapping[str, Any]       # the parent's live settings in force at S (its changes at S made)
    probe_batch: Mapping[str, np.ndarray] = field(default_factory=dict)
    probed_before: int | None = None          # the parent's last probe at or before S
    source: str | None = None                 # the session file

    @property
    def run_id(self) -> int:
        return self.parent[0]

    @property
    def step(self) -> int:
        return self.parent[1]

    @property
    def changed(self) -> dict[str, Any]:
        """The settings the fork changes, against the parent's at S."""
        return {name: getattr(self.config, name) for name in LIVE_SETTINGS
                if getattr(self.config, name) != self.settings_at_step[name]}


def plan_fork(source, run_id: int | None, step: int, changes: Mapping[str, Any] | None = None,
              steps: int | None = None) -> ForkPlan:
    """Check a fork of run `run_id` at its recorded step `step` and read what it needs.

    `source` is a session path, an open Session or a Run (then `run_id` may be None).
    `changes` holds new values of live settings (lr, clip_mode, clip_threshold, ...); `steps` is
    the fork's total number of steps (default: the parent's), counted from step 0 like the parent's.
    """
    from gradscope.session import open_session
    from gradscope.session.reader import Session
    from gradscope.session.run import Run

    if isinstance(source, Run):
        if run_id is not None and run_id != source.id:
            raise ConfigError("run", f"asked for run {run_id} but was given run {source.id}")
        return _plan(source, _path(source), source.id, step, changes, steps)
    if isinstance(source, Session):
        return _plan(_find_run(source, run_id), str(source.path), run_id, step, changes, steps)
    with open_session(source) as session:
        return _plan(_find_run(session, run_id), os.fspath(source), run_id, step, changes, steps)


def start_fork(plan: ForkPlan, callbacks=None, probe_mode: str | None = None, task=None):
    """A Trainer for the fork, standing at step S with the fork's settings queued; `run()` it."""
    from gradscope.training.trainer import Trainer

    trainer = Trainer(plan.config, callbacks, task=task, probe_mode=probe_mode)
    try:
        prepare_fork(trainer, plan)
    except BaseException:
        trainer.close()
        raise
    return trainer


def prepare_fork(trainer, plan: ForkPlan) -> None:
    """Bring a trainer that has not started to the parent's step S, the fork's settings queued."""
    if trainer.started:
        raise RuntimeError("a fork starts in a trainer that has not run")
    with _damage_named(plan):
        trainer.restore(fast_forward(plan, trainer.task))
    inputs, targets = plan.probe_batch.get("inputs"), plan.probe_batch.get("targets")
    if inputs is not None and targets is not None:
        # the parent's probe batch, so that probed quantities compare between the two (plan_fork
        # checked it against the batch a trainer of this configuration draws)
        trainer.probe_inputs = torch.from_numpy(np.array(inputs))
        trainer.probe_targets = torch.from_numpy(np.array(targets))
    if plan.config.probe_every and plan.probed_before is not None and plan.probed_before < plan.step:
        trainer.last_probe = plan.probed_before   # a fixed cadence goes on probing the parent's steps
    trainer.change_settings(plan.step, **LiveSettings.of(plan.config).values)


def fast_forward(plan: ForkPlan, task=None) -> Checkpoint:
    """The parent's state at step S, as a checkpoint: trained silently from the plan's
    checkpoint, the parent's setting changes on the twin's schedule at their steps."""
    from gradscope.training.trainer import Trainer

    start, target = plan.checkpoint.step, plan.step
    at_step = LiveSettings(plan.settings_at_step)
    if start >= target:
        return checkpoints.with_live_settings(plan.checkpoint, at_step, step=target)
    # enough steps that the twin never finishes (a fork may have fewer than its parent)
    config = plan.parent_config.replace(steps=max(plan.parent_config.steps, target + 1))
    with Trainer(config, task=task, probe_mode="thread") as twin:
        twin.cadence = _NoProbes()
        with _damage_named(plan):
            twin.restore(plan.checkpoint)
        for step, changes in plan.replay.items():
            twin.change_settings(step, **changes)
        state = twin.run(steps=target - start)
        if state is RunState.DIVERGED or twin.step_index != target:
            raise ConfigError("step", f"replaying run {plan.run_id} from its checkpoint at step {start} "
                              f"went non-finite at step {twin.step_index - 1}, before step {target}")
        return checkpoints.take(target, twin.model, twin.optimizer, twin.data, at_step)


@contextlib.contextmanager
def _damage_named(plan: ForkPlan):
    """A damaged checkpoint, as the SessionError of the file it came from."""
    try:
        yield
    except checkpoints.DamagedCheckpoint as error:
        from gradscope.session import SessionError

        raise SessionError(plan.source, f"run {plan.run_id}: {error}") from None


def _check_before_training(plan: ForkPlan) -> None:
    """The plan's checkpoint and probe batch against a model and a task of the parent's
    configuration, before any trainer is built (its optimiser alone takes seconds to make):
    a damaged file is refused at once."""
    from gradscope import tasks
    from gradscope.models import build
    from gradscope.training.trainer import PROBE_SEED_OFFSET

    with _damage_named(plan):
        checkpoints.check_for(plan.checkpoint, plan.parent_config)
    inputs, targets = plan.probe_batch.get("inputs"), plan.probe_batch.get("targets")
    if inputs is None or targets is None:
        return
    config = plan.parent_config
    task = tasks.build(config)
    drawn = task.probe_batch(config.probe_batch, config.seed + PROBE_SEED_OFFSET)
    _check_probe_batch(plan, build(config), task, drawn, inputs, targets)


def _check_probe_batch(plan: ForkPlan, model, task, drawn: tuple, inputs, targets) -> None:
    """Refuse (a SessionError) the parent's probe batch unless it has the shapes and kinds of
    the batch `task` draws (`drawn`) and `model` takes it: before any file is written, rather
    than by a probe that fails once the fork is recording."""
    from gradscope.session import SessionError

    problem = None
    batch = {}
    for name, value, expected in (("inputs", inputs, drawn[0]), ("targets", targets, drawn[1])):
        array = np.asarray(value)
        expected = expected.numpy()
        if array.shape != expected.shape or array.dtype != expected.dtype:
            problem = (f"its probe batch {name} are {array.dtype} {list(array.shape)}, not "
                       f"{expected.dtype} {list(expected.shape)}")
            break
        batch[name] = torch.from_numpy(np.array(array))
    if problem is None:
        try:
            with torch.no_grad():
                task.loss(model(batch["inputs"]), batch["targets"])
        except (IndexError, RuntimeError, ValueError):
            problem = "its probe batch does not fit the model (a token or class out of range)"
    if problem is not None:
        raise SessionError(plan.source, f"run {plan.run_id}: {problem}")


class _NoProbes(AutoCadence):
    """The twin's cadence: never a probe."""

    def due(self, step: int, last_probe: int | None) -> bool:
        return False


# -- planning -------------------------------------------------------------------------------------

def _plan(run, path: str | None, run_id: int, step: Any, changes: Mapping[str, Any] | None,
          steps: Any) -> ForkPlan:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise ConfigError("step", f"must be a whole number, not {step!r}")
    step = int(step)
    recorded = run.steps
    if len(recorded) == 0:
        raise ConfigError("step", f"run {run.id} recorded no steps; there is nothing to fork from")
    if step not in set(recorded.tolist()):
        raise ConfigError("step", f"run {run.id} has no recorded step {step}; "
                          f"it recorded steps {int(recorded[0])} to {int(recorded[-1])}")
    saved = run.checkpoint_steps()
    before = saved[saved <= step]
    if len(before) == 0:
        first = f"its first is at step {int(saved[0])}" if len(saved) else "it has none"
        raise ConfigError("step", f"run {run.id} has no checkpoint at or before step {step} ({first}); "
                          "fork from a later step")
    events = run.events
    if any(event.kind == EventKind.DIVERGED.value and event.step == step for event in events):
        raise ConfigError("step", f"run {run.id} diverged at step {step}; a fork there diverges too, "
                          "fork from an earlier step")
    checkpoint = run.checkpoint(int(before[-1]))
    start = checkpoint.step
    history = _setting_history(run, events, step)
    # the checkpoint holds the settings in force at its step (its step's changes made); one
    # from before settings were saved gets them from the config and the changes up to there
    try:
        stored = checkpoints.live_settings(checkpoint, run.config)
    except ConfigError as error:
        from gradscope.session import SessionError

        raise SessionError(_path(run), f"run {run.id}: {error.problem}") from None
    if stored is None:
        stored = LiveSettings.of(run.config)
        for at in sorted(at for at in history if at <= start):
            stored = stored.replace(history[at])
    settings = stored
    for at in sorted(at for at in history if start < at <= step):
        settings = settings.replace(history[at])
    replay = {at: dict(change) for at, change in history.items() if start < at < step}
    config = _fork_config(run.config, dict(settings.values), changes, steps, step)
    plan = ForkPlan(parent=(run.id, step), parent_config=run.config, config=config,
                    checkpoint=checkpoints.with_live_settings(checkpoint, stored),
                    replay=replay, settings_at_step=dict(settings.values), probe_batch=dict(run.probe_batch),
                    probed_before=_last_probe(run, step), source=path)
    _check_before_training(plan)
    return plan


def _find_run(session, run_id: Any):
    if isinstance(run_id, bool) or not isinstance(run_id, (int, np.integer)):
        raise ConfigError("run", f"must be a whole number, not {run_id!r}")
    ids = [run.id for run in session.runs]
    if int(run_id) not in ids:
        held = f"its runs are {', '.join(map(str, ids))}" if ids else "it holds no runs"
        raise ConfigError("run", f"{session.path} has no run {int(run_id)}; {held}")
    return session.run(int(run_id))


def _path(run) -> str | None:
    path = getattr(run, "path", None)
    return None if path is None else os.fspath(path)


def _fork_config(parent: RunConfig, settings: dict, changes: Mapping[str, Any] | None, steps: Any,
                 step: int) -> RunConfig:
    changes = dict(changes or {})
    for name in changes:
        if name not in LIVE_SETTINGS:
            raise ConfigError(str(name)[:80], f"a fork changes only the live settings ({', '.join(LIVE_SETTINGS)}) "
                              "and --steps")
    total = parent.steps if steps is None else steps
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total <= step:
        raise ConfigError("steps", f"the fork starts at step {step}; its total number of steps must be "
                          f"a whole number above {step}, not {total!r}")
    return RunConfig.from_dict({**parent.to_dict(), **settings, **changes, "steps": int(total)})


def _setting_history(run, events, step: int) -> dict[int, dict[str, Any]]:
    """The parent's setting changes up to `step`, by step: {step: {setting: new value}}, each
    checked as the trainer would check it."""
    history: dict[int, dict[str, Any]] = {}
    for event in events:
        if event.kind != EventKind.SETTINGS_CHANGED.value or event.step > step:
            continue
        try:
            checked = LiveSettings.check(run.config, dict(event.detail))
        except ConfigError as error:
            from gradscope.session import SessionError

            raise SessionError(_path(run), f"run {run.id}: the settings_changed event at step {event.step} "
                               f"is malformed ({error})") from None
        history.setdefault(event.step, {}).update(checked)
    return history


def _last_probe(run, step: int) -> int | None:
    """The parent's last probed step at or before `step` (None when it probed none)."""
    names = [name for name, (kind, _, _) in run.series_names().items() if kind == "array"]
    if not names:
        return None
    probed = run.series_steps(names[0])
    probed = probed[probed <= step]
    return int(probed[-1]) if len(probed) else None
