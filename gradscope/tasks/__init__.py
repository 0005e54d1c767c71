"""Bundled, deterministic tasks: nothing is downloaded.

    task = build(config)
    x, target = task.sample(config.batch, generator)      # x: float32 [B, task.length, task.input_size]
    loss = task.loss(model(x), target)                    # mean of per-sequence losses
    task.metrics(output, target)[task.metric_name]

| task    | length   | input | output | many_to_many | metric_name    |
|---------|----------|-------|--------|--------------|----------------|
| adding  | T        | 2     | 1      | no           | mse            |
| copy    | T + 2k   | 10    | 10     | yes          | accuracy       |
| recall  | T        | 8     | 8      | no           | accuracy       |
| sine    | T        | 1     | 1      | no           | mse            |
| charlm  | T        | V     | V      | yes          | bits_per_char  |
| csv     | T        | 1     | 1      | no           | mse            |
| digits, mnist, images | 1 | C*H*W | classes | no     | accuracy       |

Regression targets are float32 [B, 1 + extra] with the predicted value in column 0 (see
`regression.py`); classification targets are int64 class ids. The image tasks (`images.ImageTask`) give images
[B, C, H, W] instead of sequences; their train and test split is fixed (split seed 0), apart
from the run's seed, so that runs of any seed are scored on the same test images.
"""
from __future__ import annotations

from gradscope.config import ConfigError, RunConfig
from gradscope.tasks.adding import AddingTask
from gradscope.tasks.base import Task
from gradscope.tasks.charlm import CharLMTask, load_text
from gradscope.tasks.copy_task import CopyTask
from gradscope.tasks.images import IMAGE_TASK_NAMES, ImageTask, image_task
from gradscope.tasks.csv_series import CsvTask, load_csv
from gradscope.tasks.recall import RecallTask
from gradscope.tasks.sine import SineTask

__all__ = ["build", "Task", "AddingTask", "CopyTask", "RecallTask", "SineTask", "CharLMTask", "CsvTask",
           "ImageTask"]


def build(config: RunConfig) -> Task:
    """The task a run config describes; a ConfigError names the option behind any bad data."""
    if config.task in IMAGE_TASK_NAMES:
        return image_task(config.task, config.images, config.image_size or None)
    T = config.seq_len
    if config.task == "adding":
        return AddingTask(T)
    if config.task == "copy":
        return CopyTask(T, config.copy_symbols)
    if config.task == "recall":
        return RecallTask(T)
    if config.task == "sine":
        return SineTask(T)
    if config.task == "charlm":
        text, source = load_text(config.text)
        return CharLMTask(text, T, source=source, temperature=config.temperature)
    if config.task == "csv":
        if not config.csv:
            raise ConfigError("csv", "the csv task needs a data file (--csv FILE)")
        return load_csv(config.csv, T, config.csv_column)
    raise ConfigError("task", f"unknown task {config.task!r}")
