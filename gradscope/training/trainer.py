"""The trainer: one run of one configuration, step by step, measuring itself.

Each step applies pending setting changes (recorded as events), takes a checkpoint when one
is due (the weights before this step's update), trains one batch with the fused model,
probes when due, clips, checks for NaN/inf and updates. Everything it learns leaves as
immutable records through the callbacks. It never raises on divergence: a non-finite loss or
gradient ends the run in the `diverged` state with an event saying what went non-finite.
"""
from __future__ import annotations

import threading
import time
import traceback

import numpy as np
import torch

from gradscope import models, tasks
from gradscope.config import RunConfig
from gradscope.probes.runner import ProbeProcess, ProbeThread, default_probe_mode, start_probe_runner
from gradscope.records import Checkpoint, Event, EventKind, RunState, StepRecord
from gradscope.training.cadence import AutoCadence
from gradscope.training.callbacks import Callback
from gradscope.training.clipping import clip_gradients, gradient_norms
from gradscope.training.control import RunControl
from gradscope.training import checkpoints
from gradscope.training.device import resolve_device
from gradscope.training.optim import build_optimizer, set_learning_rate

PROBE_SEED_OFFSET = 7919  # the probe batch is drawn apart from the training stream


class Trainer:
    def __init__(self, config: RunConfig, callbacks: list[Callback] | None = None, task=None,
                 probe_mode: str | None = None):
        self.config = config
        self.callbacks = list(callbacks or [])
        self.control = RunControl()
        self.device, self.device_note = resolve_device(config.device)
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
        self.cadence = AutoCadence(config.probe_every)
        self._held: list[tuple[int, dict, float]] = []   # steps waiting for an earlier probe
        self.clip_mode = config.clip_mode
        self.clip_threshold = config.clip_threshold
        self.lr = config.lr
        self.step_index = 0
        self.first_step = 0   # a trainer checkpoints the step it starts at, whatever the interval
        self.last_probe: int | None = None
        self.state: RunState | None = None
        self.last_record: StepRecord | None = None
        self.started = False
        self.threads = 1
        self._configured_thread: int | None = None
        self._last_step_began: float | None = None
        self._last_step_probing = False
        self._threads_before: int | None = None
        self._closed = False

    # -- control, from any thread -----------------------------------------------------------

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def stop(self) -> None:
        self.control.stop()

    def request_step(self) -> None:
        """One step while `run` is paused; the run stays paused after it."""
        self.control.request_step()

    def set_clipping(self, mode: str | None = None, threshold: float | None = None) -> None:
        changes = {}
        if mode is not None:
            changes["clip_mode"] = mode
        if threshold is not None:
            changes["clip_threshold"] = threshold
        # validate here, in the caller's thread, so a bad value never reaches the trainer
        self.config.replace(**changes)
        self.control.request(**changes)

    def set_learning_rate(self, lr: float) -> None:
        self.config.replace(lr=lr)
        self.control.request(lr=lr)

    # -- the loop ----------------------------------------------------------------------------

    def run(self, steps: int | None = None) -> RunState:
        """Train until `steps` more steps (default: the configured total) are done, or the run
        is stopped, diverges or fails. Returns the state it ends in. A run in a final state
        (stopped, finished, failed, diverged) stays there: this returns that state at once."""
        self._check_open()
        if self.state is not None and self.state.is_final:
            return self.state
        target = self.config.steps if steps is None else self.step_index + steps
        self._start()
        try:
            self._set_state(RunState.RUNNING)
            while self.step_index < target:
                if self.control.stop_requested:
                    break
                if self.control.pause_requested:
                    self._flush(wait=True)
                    self._last_step_began = None
                    self._set_state(RunState.PAUSED)
                    while not self.control.wait_while_paused(0.1):
                        if self.control.stop_requested:
                            break
                        if self.control.take_step_request() and self.step_index < target:
                            # Step while paused: one step, delivered whole, still paused
                            self._step()
                            self._flush(wait=True)
                            self._last_step_began = None
                            if self.state is RunState.DIVERGED:
                                return self.state
                    if self.control.stop_requested:
                        break
                    self._set_state(RunState.RUNNING)
                self._step()
                self._flush(wait=False)
                if self.state is RunState.DIVERGED:
                    return self.state
            # a stop does not wait for a probe in flight (on a big model that can take minutes):
            # its step is delivered without it
            self._flush(wait=not self.control.stop_requested, abandon=self.control.stop_requested)
            self._last_step_began = None
            if self.control.stop_requested:
                self._set_state(RunState.STOPPED)
            elif self.step_index >= self.config.steps:
                self._set_state(RunState.FINISHED)
            else:
                self._set_state(RunState.PAUSED)   # asked for fewer steps than the run has
            return self.state
        except KeyboardInterrupt:
            self._flush(wait=False, abandon=True)
            self._set_state(RunState.STOPPED)
            raise
        except Exception as exc:
            step = getattr(exc, "step", self.step_index)
            self._flush(wait=False, abandon=True)
            self._emit_event(EventKind.FAILED, step=step, error=f"{type(exc).__name__}: {exc}",
                             traceback=traceback.format_exc(limit=20))
            self._set_state(RunState.FAILED, step=step)
            raise
        finally:
            for callback in self.callbacks:
                callback.on_run_end(self)

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

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this trainer is closed")

    def step(self) -> StepRecord | None:
        """One training step with its records delivered (the GUI's Step button); None when the
        run is in a final state. A stepped run is paused between steps, and finished when it
        reaches its configured number of steps."""
        self._check_open()
        if self.state is not None and self.state.is_final:
            return None
        self._step()
        self._flush(wait=True)
        self._last_step_began = None   # a single step leaves no throughput to measure
        if self.state is not RunState.DIVERGED:
            self._set_state(RunState.FINISHED if self.step_index >= self.config.steps else RunState.PAUSED)
        return self.last_record

    def _step(self) -> None:
        self._start()
        self._configure_thread()
        now = time.perf_counter()
        if self._last_step_began is not None:
            # the whole previous step, with its records delivered: what throughput is made of
            self.cadence.observe_step(now - self._last_step_began, self._last_step_probing)
        self._last_step_began = now
        step = self.step_index
        self._apply_pending(step)
        if step % self.config.checkpoint_every == 0 or step == self.first_step:
            self._checkpoint(step)
        self._maybe_probe(step)
        probing = self.probe_runner is not None and self.probe_runner.busy
        self.model.train()
        inputs, targets = self.task.sample(self.config.batch, self.data)
        inputs, targets = inputs.to(self.device), targets.to(self.device)
        self.optimizer.zero_grad(set_to_none=True)
        output = self._forward(inputs)
        loss = self.task.loss(output, targets)
        loss.backward()
        norms = gradient_norms(dict(self.model.named_parameters()))
        param_norms = {f"param_grad_norm/{name}": value for name, value in norms.items()}
        clip = clip_gradients(self.parameters, self.clip_mode, self.clip_threshold, list(norms.values()))
        scalars = {"loss": float(loss.detach()), "grad_norm": clip.grad_norm,
                   "grad_norm_clipped": clip.grad_norm_clipped, "clipped": float(clip.clipped),
                   "lr": self.lr, "clip_threshold": self.clip_threshold}
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
        self._last_step_probing = probing
        self._held.append((step, scalars, time.time()))
        if bad:
            self._flush(wait=True)
            self._emit_event(EventKind.DIVERGED, step=step, non_finite=", ".join(bad[:8]),
                             loss=scalars["loss"], grad_norm=scalars["grad_norm"])
            self._set_state(RunState.DIVERGED, step=step)

    # -- probes --------------------------------------------------------------------------------

    def _maybe_probe(self, step: int) -> None:
        if not self.cadence.due(step, self.last_probe):
            return
        if self.probe_runner is None:
            self.probe_runner = self._start_probe_runner()
        if self.probe_runner.busy:
            if not self.cadence.fixed:
                return              # automatic cadence: probe when the probe thread is free
            self._flush(wait=True)  # a fixed cadence is kept exactly, waiting if need be
        self.probe_runner.submit(step, self.model.state_dict())
        self.last_probe = step

    def _start_probe_runner(self) -> ProbeThread | ProbeProcess:
        return start_probe_runner(self.probe_mode, self.config, self.task, self.device,
                                  self.probe_inputs, self.probe_targets, self.threads)

    def _flush(self, wait: bool, abandon: bool = False) -> None:
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
            torch.set_flush_denormal(True)
            self._configured_thread = thread

    def _forward(self, inputs: torch.Tensor) -> torch.Tensor:
        window = self.config.tbptt
        if not window or window >= inputs.shape[1]:
            return self.model(inputs)
        # truncated BPTT: the state flows forward across windows, the gradient does not
        state, outputs = None, []
        starts = list(range(0, inputs.shape[1], window))
        for index, start in enumerate(starts):
            # a many-to-one task reads only the last window: the others just carry the state
            needs_graph = self.model.many_to_many or index == len(starts) - 1
            with torch.set_grad_enabled(needs_graph and torch.is_grad_enabled()):
                output, state = self.model.run(inputs[:, start:start + window], state)
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            outputs.append(output)
        return torch.cat(outputs, dim=1) if self.model.many_to_many else outputs[-1]

    def _apply_pending(self, step: int) -> None:
        for name, value in self.control.take_pending().items():
            if name == "lr" and value != self.lr:
                self._emit_event(EventKind.LR_CHANGED, step=step, old=self.lr, new=value)
                self.lr = value
                set_learning_rate(self.optimizer, value)
            elif name == "clip_threshold" and value != self.clip_threshold:
                self._emit_event(EventKind.CLIP_THRESHOLD_CHANGED, step=step, old=self.clip_threshold, new=value)
                self.clip_threshold = value
            elif name == "clip_mode" and value != self.clip_mode:
                self._emit_event(EventKind.CLIP_MODE_CHANGED, step=step, old=self.clip_mode, new=value)
                self.clip_mode = value

    def _checkpoint(self, step: int) -> None:
        checkpoint = checkpoints.take(step, self.model, self.optimizer, self.data, self._settings())
        for callback in self.callbacks:
            callback.on_checkpoint(self, checkpoint)

    def restore(self, checkpoint: Checkpoint) -> None:
        """Put a checkpoint back in place: weights, optimiser state, data stream, and the
        learning rate and clipping that were in force, so training on reproduces the run."""
        self._check_open()
        if self.state is not None and self.state.is_final or self._held:
            raise RuntimeError("restore a checkpoint into a trainer that has not run, or is paused")
        settings = checkpoints.put_back(checkpoint, self.model, self.optimizer, self.data, self._settings())
        self.lr, self.clip_mode, self.clip_threshold = settings.lr, settings.clip_mode, settings.clip_threshold
        self.step_index = self.first_step = checkpoint.step
        self.last_probe = None

    def _settings(self) -> checkpoints.Settings:
        return checkpoints.Settings(lr=self.lr, clip_mode=self.clip_mode, clip_threshold=self.clip_threshold)

    def probe_batch_arrays(self) -> dict[str, np.ndarray]:
        return {"inputs": self.probe_inputs.numpy(), "targets": self.probe_targets.numpy()}

    def _start(self) -> None:
        if self.started:
            return
        self.started = True
        if self.probe_mode == "process":
            # wait for the probe process once, up front, so that probes cover the run from its
            # first steps instead of starting seconds into it
            self.probe_runner = self._start_probe_runner()
            self.probe_runner.wait_ready()
        for callback in self.callbacks:
            callback.on_run_start(self)
        self._emit_event(EventKind.RUN_STARTED, step=self.step_index, arch=self.config.arch, task=self.config.task,
                         device=str(self.device), **({"device_note": self.device_note} if self.device_note else {}))

    def _set_state(self, state: RunState, step: int | None = None) -> None:
        if state is self.state:
            return
        self.state = state
        self._emit_event(EventKind.STATE_CHANGED, step=self.step_index if step is None else step, state=state.value)
        for callback in self.callbacks:
            callback.on_state_changed(self, state)

    def _emit_event(self, kind: EventKind, step: int | None = None, **detail) -> None:
        event = Event(step=self.step_index if step is None else step, kind=kind, detail=detail, wall_time=time.time())
        for callback in self.callbacks:
            callback.on_event(self, event)
