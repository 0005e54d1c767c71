"""Probes in a child process give exactly what the in-process probe thread gives."""
import numpy as np

from gradscope.config import RunConfig
from gradscope.training import Callback, Trainer


class Keep(Callback):
    def __init__(self):
        self.records = []

    def on_step_end(self, trainer, record):
        self.records.append(record)


def test_process_and_thread_probes_agree_and_the_child_is_stopped():
    config = RunConfig(arch="lstm", task="charlm", seq_len=10, hidden=6, batch=4, steps=5, probe_every=2)
    results = {}
    for mode in ("thread", "process"):
        keep = Keep()
        trainer = Trainer(config, [keep], probe_mode=mode)
        trainer.run()
        if mode == "process":
            child = trainer.probe_runner._process
            assert child.is_alive()
        trainer.close()
        results[mode] = keep.records
    assert not child.is_alive()
    for threaded, separate in zip(results["thread"], results["process"]):
        assert threaded.step == separate.step and threaded.probed == separate.probed
        assert threaded.scalars == separate.scalars
        for name, array in threaded.arrays.items():
            np.testing.assert_array_equal(array, separate.arrays[name])
    assert [r.step for r in results["process"] if r.probed] == [0, 2, 4]
    assert "sample/text" in results["process"][0].arrays
