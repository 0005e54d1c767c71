"""The run configuration: every setting declared once (`declaration`), the frozen `RunConfig`
(`run_config`), its live settings (`live`), and its command-line options and TOML files
(`options`, `toml`). Plain Python: no torch, no Qt."""
from gradscope.config.declaration import GROUPS, Setting
from gradscope.config.errors import ConfigError
from gradscope.config.live import LIVE_SETTINGS, RECORDED_LIVE_SETTINGS, LiveSettings
from gradscope.config.run_config import (ARCHITECTURES, CLIP_MODES, DEVICES, INITS, MAX_BATCH, MAX_HIDDEN,
                                         MAX_LAYERS, MAX_SEQ_LEN, MAX_STEPS, NONLINEARITIES, OPTIMIZERS, SETTINGS,
                                         TASKS, RunConfig)
from gradscope.config.toml import load_toml

__all__ = [
    "ARCHITECTURES", "CLIP_MODES", "DEVICES", "GROUPS", "INITS", "LIVE_SETTINGS", "MAX_BATCH", "MAX_HIDDEN",
    "MAX_LAYERS", "MAX_SEQ_LEN", "MAX_STEPS", "NONLINEARITIES", "OPTIMIZERS", "RECORDED_LIVE_SETTINGS", "SETTINGS",
    "TASKS", "ConfigError", "LiveSettings", "RunConfig", "Setting", "load_toml",
]
