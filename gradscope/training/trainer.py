"""The trainer: one run of one configuration, step by step, measuring itself.

Each step takes what its schedule holds for it (setting changes, recorded as one
`settings_changed` event; notes), takes a checkpoint when one is due (the weights before this
step's update), trains one batch with the fused model, probes when due, clips, checks for
NaN/inf and updates. Everything it learns leaves as immutable records through the callbacks.
It never raises on divergence: a non-finite loss or gradient ends the run in the `diverged`
state with an event saying what went non-finite.

`run()` drives it to the end through `gradscope.training.loop.Lockstep`, the loop that also
drives two or three trainers side by side; `step()` takes one step by hand.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import torch

from gradscope import models, tasks
from gradscope.config import RECORDED_LIVE_SETTINGS, LiveSettings, RunConfig
from gradscope.families import family_of
from gradscope.models.denormals import flush_denormals
from gradscope.probes.runner import ProbeProcess, ProbeThread, ProbeWorker, default_probe_mode, start_probe_runner
from gradscope.records import Checkpoint, Event, EventKind, RunState, StepRecord
from gradscope.training import checkpoints
from gradscope.training.cadence import AutoCadence
from gradscope.training.callbacks import Callback
from gradscope.training.clipping import clip_gradients, gradient_norms
from gradscope.training.control import Controlled, RunControl
from gradscope.training.device import resolve_device
from gradscope.training.optim import apply_live_settings, build_optimizer
from gradscope.training.schedule import Due, Schedule

PROBE_SEED_OFFSET = 7919  # the probe batch is drawn apart from the training stream


class Trainer(Controlled):
    def __init__(self, config: RunConfig, callbacks: list[Callback] | None = None, task=None,
                 probe_mode: str | None = None):
        self.config = config
        self.callbacks = list(callbacks or [])
        self.control = RunControl()
        self.schedule = Schedule()
        self.live = LiveSettings.of(config)      # the live settings in force
        self.device, self.device_note = resolve_device(config.device)
        self.family = family_of(config.arch)
        self.task = task if task is not None else tasks.build(config)
        self.model = models.build(config, self.task).to(self.device)
        self.parameters = list(self.model.parameters())
        self.optimizer = build_optimizer(config, self.parameters)
        self.data = torch.Generator().manual_seed(config.seed)
        probe_inputs, probe_targets = self.task.probe_batch(config.probe_batch, config.seed + PROBE_SEED_OFFSET)
        self.probe_inputs, self.probe_targets = probe_inputs, probe_targets
        # the probes measure a twin of the model that holds a snapshot of the probed step's
        # weights, in a process (or a thread) of their own, so training goes on meanwhile
        self.probe_mode = probe_mode or default_probe_mode("thread")
        self.probe_runner: ProbeThread | ProbeProcess | None = None
        self.probe_worker: ProbeWorker | None = None   # a probe thread shared with other runs
        self.cadence = AutoCadence(config.probe_every)
        self._held: list[tuple[int, dict, float]] = []   # steps waiting for an earlier probe
        # held records leave one way at a time: by `flush` in the training thread, or by
        # `salvage` from another, as the process ends in the middle of a step
        self._delivering = threading.RLock()
        self.step_index = 0
        self.first_step = 0   # a trainer checkpoints the step it starts at, whatever the interval
        self.last_probe: int | None = None
        self.state: RunState | None = None
        self.last_record: StepRecord | None = None
        self.started = False
        self.threads = 1
        self._configured_thread: int | None = None
        self._threads_before: int | None = None
        self._closed = False

    # -- control, from any thread (and pause, resume, stop, request_step: Controlled) ----------

    def change_settings(self, step: int | None = None, **changes) -> dict:
        """Live settings in force from `step` (None: the next step taken). Checked here, in
        the caller's thread, so a bad value never reaches the training: a ConfigError."""
        checked = LiveSettings.check(self.live.applied_to(self.config), changes)
        self.schedule.change(self.future_step(step, "change a setting"), **checked)
        return checked

    def pause_at(self, step: int) -> None:
        """Pause after step `step`: its record is the last one until the run resumes."""
        self.schedule.pause_at(self.future_step(step, "pause"))

    def note_at(self, step: int, text: str) -> None:
        """A `note` event with `text` at step `step` (a caption of a lesson, say)."""
        self.schedule.note_at(self.future_step(step, "make a note"), str(text))

    def future_step(self, step: int | None, what: str) -> int | None:
        """`step` if the run has not passed it (None: the next step), else a ValueError."""
        if step is not None and (isinstance(step, bool) or not isinstance(step, (int, np.integer))
                                 or step < self.step_index):
            raise ValueError(f"cannot {what} at step {step!r}: the run is at step {self.step_index}")
        return None if step is None else int(step)

    # -- running -----------------------------------------------------------------------------

    def run(self, steps: int | None = None) -> RunState:
        """Train until `steps` more steps (default: the configured total) are done, or the run
        is stopped, diverges or fails. Returns the state it ends in. A run in a final state
        (stopped, finished, failed, diverged) stays there: this returns that state at once."""
        from gradscope.training.loop import Lockstep

        return Lockstep([self], control=self.control).run(steps)[0]

    def step(self) -> StepRecord | None:
        """One training step with its records delivered (a Step button); None when the run is
        in a final state. A stepped run is paused between steps, and finished when it reaches
        its configured number of steps."""
        self.check_open()
        if self.state is not None and self.state.is_final:
            return None
        self.advance(self.schedule.take(self.step_index), measure=False)
        self.flush(wait=True)
        if self.state is not RunState.DIVERGED:
            self.set_state(RunState.FINISHED if self.step_index >= self.config.steps else RunState.PAUSED)
        return self.last_record

    def close(self) -> None:
        """Stop the probe thread or process and give back the torch thread setting; the
        trainer cannot train after this."""
        if self.probe_runner is not None:
            self.probe_runner.close()
            self.probe_runner = None
        if self._threads_before is not None:
            torch.set_num_threads(self._threads_before)
            self._threads_before = None
        self._closed = True

    def __enter__(self) -> Trainer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this trainer is closed")

    # -- one step, as the loop takes it -------------------------------------------------------

    def advance(self, due: Due, measure: bool = True) -> None:
        """Train step `step_index` with what is due at it, and deliver its records unless a
        probe holds them. `measure`: its time counts for the probe cadence (not a single step
        by hand, nor one taken while paused)."""
        began = time.perf_counter()
        self._step(due)
        probing = self.probe_runner is not None and self.probe_runner.busy
        self.flush(wait=False)
        if measure:
            self.cadence.observe_step(time.perf_counter() - began, probing)

    def _step(self, due: Due) -> None:
        self.start()
        self._configure_thread()
        step = self.step_index
        self._apply_settings(step, due.changes)
        for text in due.notes:
            self.emit_event(EventKind.NOTE, step=step, text=text)
        if step % self.config.checkpoint_every == 0 or step == self.first_step:
            self._checkpoint(step)
        self._maybe_probe(step)
        self.model.train()
        inputs, targets = self.task.sample(self.config.batch, self.data)
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        output = self._forward(inputs)
        loss = self.task.loss(output, targets)
        loss.backward()
        norms = gradient_norms(dict(self.model.named_parameters()))
        param_norms = {f"param_grad_norm/{name}": value for name, value in norms.items()}
        clip = clip_gradients(self.parameters, self.live["clip_mode"], self.live["clip_threshold"],
                              list(norms.values()))
        scalars = {"loss": float(loss.detach()), "grad_norm": clip.grad_norm,
                   "grad_norm_clipped": clip.grad_norm_clipped, "clipped": float(clip.clipped)}
        scalars.update({name: float(self.live[name]) for name in RECORDED_LIVE_SETTINGS})
        if np.isfinite(scalars["loss"]):
            with torch.no_grad():
                metrics = self.task.metrics(output.detach(), targets)
            scalars.update({f"metric/{name}": value for name, value in metrics.items()})
        scalars.update(param_norms)
        bad = [name for name in ("loss", "grad_norm") if not np.isfinite(scalars[name])]
        bad += [name for name in param_norms if not np.isfinite(param_norms[name])]
        if not bad:
            self.optimizer.step()
        self.step_index = step + 1
        self._held.append((step, scalars, time.time()))
        if bad:
            self.flush(wait=True)
            self.emit_event(EventKind.DIVERGED, step=step, non_finite=", ".join(bad[:8]),
                            loss=scalars["loss"], grad_norm=scalars["grad_norm"])
            self.set_state(RunState.DIVERGED, step=step)

    def _apply_settings(self, step: int, changes: dict) -> None:
        changed = self.live.changed(changes)
        if not changed:
            return
        self.live = self.live.replace(changed)
        apply_live_settings(self.optimizer, self.config.optimizer, self.live)
        self.emit_event(EventKind.SETTINGS_CHANGED, step=step, **changed)

    # -- probes --------------------------------------------------------------------------------

    def _maybe_probe(self, step: int) -> None:
        if not self.cadence.due(step, self.last_probe):
            return
        if self.probe_runner is None:
            self.probe_runner = self.open_probe_runner()
        if self.probe_runner.busy:
            if not self.cadence.fixed:
                return              # automatic cadence: probe when the probe thread is free
            self.flush(wait=True)   # a fixed cadence is kept exactly, waiting if need be
        self.probe_runner.submit(step, self.model.state_dict(), dict(self.live.values))
        self.last_probe = step

    def open_probe_runner(self) -> ProbeThread | ProbeProcess:
        return start_probe_runner(self.probe_mode, self.config, self.task, self.device,
                                  self.probe_inputs, self.probe_targets, self.threads, worker=self.probe_worker)

    def flush(self, wait: bool, abandon: bool = False) -> None:
        """Deliver held step records in order, each with its probe results when it has one.

        Records wait only for a probe in flight: the held ones all come at or after the probed
        step (a probe is submitted at the start of its step, and earlier steps were delivered
        when the previous probe came back), so `step >= last_probe` is exactly the set to hold.
        `abandon` delivers everything now, the probe in flight without its results. A probe
        that raised still lets its step and the held ones through, then raises with the step.
        """
        probed: dict[int, dict] = {}
        failure: BaseException | None = None
        if self.probe_runner is not None:
            try:
                finished = self.probe_runner.result(wait and not abandon)
            except Exception as exc:
                failure, finished = exc, None
                exc.step = self.last_probe
            if finished is not None:
                step, results, seconds = finished
                probed[step] = results
                self.cadence.observe_probe(seconds)
        pending = self.probe_runner is not None and self.probe_runner.busy and not abandon and failure is None
        with self._delivering:
            while self._held:
                step, scalars, wall_time = self._held[0]
                if pending and step >= self.last_probe:
                    break
                self._held.pop(0)
                arrays, extra = {}, {}
                for name, value in probed.pop(step, {}).items():
                    (extra if np.ndim(value) == 0 else arrays)[name] = value
                record = StepRecord(step=step, scalars={**scalars, **extra}, arrays=arrays, wall_time=wall_time)
                self.last_record = record
                for callback in self.callbacks:
                    callback.on_step_end(self, record)
        if failure is not None:
            raise failure

    def salvage(self, timeout: float) -> bool:
        """From another thread, as the process ends while the training thread may be in the
        middle of a long step: hand the held step records to the callbacks that take them from
        any thread (`on_step_salvaged`: the session recorder). A run's first probe outlasts
        several steps, so the steps trained before a long one may all still be waiting for it;
        they go now, without the results of probes not yet collected (the probe runners belong
        to the training thread). False when that thread stayed busy handing records over for
        `timeout` seconds."""
        if not self._delivering.acquire(timeout=timeout):
            return False
        try:
            while self._held:
                step, scalars, wall_time = self._held.pop(0)
                record = StepRecord(step=step, scalars=scalars, arrays={}, wall_time=wall_time)
                for callback in self.callbacks:
                    callback.on_step_salvaged(self, record)
        finally:
            self._delivering.release()
        return True

    # -- pieces ------------------------------------------------------------------------------

    def _configure_thread(self) -> None:
        """Per-thread torch settings, made in whichever thread trains (both are per thread).

        One intra-op thread: with two, every small op spin-waits for a core the GUI, the probes
        or any other process is using, and runs up to a hundred times slower. (torch applies
        the thread count to the whole process; close() gives the previous value back.) Denormals
        flushed to zero: vanishing gradients are this tool's subject, and denormal floats make
        the backward pass several times slower.
        """
        thread = threading.get_ident()
        if self._configured_thread != thread:
            if self._threads_before is None:
                self._threads_before = torch.get_num_threads()
            torch.set_num_threads(self.threads)
            flush_denormals()
            self._configured_thread = thread

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """The training step's forward pass, as the run's family takes it."""
        return self.family.forward(self.model, inputs, self.config)

    def _checkpoint(self, step: int) -> None:
        checkpoint = checkpoints.take(step, self.model, self.optimizer, self.data, self.live)
        for callback in self.callbacks:
            callback.on_checkpoint(self, checkpoint)

    def restore(self, checkpoint: Checkpoint) -> None:
        """Put a checkpoint back in place: weights, optimiser state, data stream, and the live
        settings that were in force then, so training on reproduces the run."""
        self.check_open()
        if self.state is not None and self.state.is_final or self._held:
            raise RuntimeError("restore a checkpoint into a trainer that has not run, or is paused")
        checkpoints.put_back(checkpoint, self.model, self.optimizer, self.data)
        self.live = checkpoints.live_settings(checkpoint, self.config) or self.live
        apply_live_settings(self.optimizer, self.config.optimizer, self.live)
        self.step_index = self.first_step = checkpoint.step
        self.last_probe = None

    def probe_batch_arrays(self) -> dict[str, np.ndarray]:
        return {"inputs": self.probe_inputs.numpy(), "targets": self.probe_targets.numpy()}

    def start(self) -> None:
        """Announce the run once (on_run_start, run_started), before its first step."""
        if self.started:
            return
        self.started = True
        if self.probe_mode == "process":
            # wait for the probe process once, up front, so that probes cover the run from its
            # first steps instead of starting seconds into it
            self.probe_runner = self.open_probe_runner()
            self.probe_runner.wait_ready()
        for callback in self.callbacks:
            callback.on_run_start(self)
        self.emit_event(EventKind.RUN_STARTED, step=self.step_index, arch=self.config.arch, task=self.config.task,
                        device=str(self.device), **({"device_note": self.device_note} if self.device_note else {}))

    def set_state(self, state: RunState, step: int | None = None) -> None:
        if state is self.state:
            return
        self.state = state
        self.emit_event(EventKind.STATE_CHANGED, step=self.step_index if step is None else step, state=state.value)
        for callback in self.callbacks:
            callback.on_state_changed(self, state)

    def emit_event(self, kind: EventKind, step: int | None = None, **detail) -> None:
        event = Event(step=self.step_index if step is None else step, kind=kind, detail=detail, wall_time=time.time())
        for callback in self.callbacks:
            callback.on_event(self, event)

    def end(self) -> None:
        """The loop returned, whatever the reason (on_run_end)."""
        for callback in self.callbacks:
            callback.on_run_end(self)
