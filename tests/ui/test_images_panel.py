"""The Images panel through the real window: the test strip, the feature maps of the probe
image and the class probabilities, each against the session's own records; a click on a
strip image makes it the probe image, in a replay (for a fork) and live (the next probe
records its maps)."""
from __future__ import annotations


import numpy as np
from PySide6.QtCore import QPointF, Qt

from gradscope import load_session
from gradscope.config import RunConfig



def click_strip_image(qtbot, panel, index: int) -> None:
    """A left click in the middle of strip image `index`, where the user's mouse would be
    (once the plots are laid out as the user sees them)."""
    qtbot.wait(20)
    side = panel.strip.tile
    scene = panel.strip.mapToScene(QPointF(index * (side + 1) + side / 2, side / 2))
    qtbot.mouseClick(panel.graphics.viewport(), Qt.MouseButton.LeftButton,
                     pos=panel.graphics.mapFromScene(scene))


def unit(image: np.ndarray) -> np.ndarray:
    return (image - image.min()) / (image.max() - image.min())


def test_the_strip_maps_and_probabilities_are_the_records_and_a_click_picks(qtbot, replay_only_window,
                                                                            open_from_menu, lenet_session):
    window = replay_only_window
    assert open_from_menu(window, lenet_session)
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert window.lab.layout == "images" and window.stage.on_stage() == ["images", "filters"]
    window.lab.seek(20)
    window.redraw(everything=True)
    panel = window.panels["images"]
    arrays = load_session(lenet_session).run(window.lab.slots[0].run_id).arrays_at(20)
    strip, probabilities = arrays["strip/images"], arrays["strip/probabilities"]
    assert strip.shape == (10, 1, 8, 8) and arrays["strip/labels"].tolist() == list(range(10))
    shown = panel.strip.image
    for index in range(10):                              # 8x8 tiles a pixel apart
        np.testing.assert_allclose(shown[:, index * 9:index * 9 + 8], unit(strip[index, 0]), atol=1e-6)
    maps = arrays["feature_maps/layer0"]                  # LeNet's first conv: 6 maps
    for channel in range(maps.shape[0]):
        tile = panel.maps_image.image[0:maps.shape[1], channel * (maps.shape[2] + 1):][:, :maps.shape[2]]
        np.testing.assert_allclose(tile, unit(maps[channel]), atol=1e-6)
    rows = [label for _, label in panel.maps_plot.getAxis("left")._tickLevels[0]]
    assert rows == ["conv 1", "conv 2 (8/16)"]           # LeNet's second conv has 16 maps, 8 shown
    assert panel.maps_plot.titleLabel.text == "Feature maps of the class 0 image"
    np.testing.assert_allclose(panel.bars.opts["height"], probabilities[0], rtol=1e-6)
    predicted = int(np.argmax(probabilities[0]))
    assert panel.readout.text.startswith(f"true 0, predicted {predicted} ")

    click_strip_image(qtbot, panel, 4)
    assert window.lab.config.probe_image == 4           # what Fork takes
    window.redraw(everything=True)
    np.testing.assert_allclose(panel.bars.opts["height"], probabilities[4], rtol=1e-6)
    assert panel.readout.text.startswith(f"true 4, predicted {int(np.argmax(probabilities[4]))} ")
    assert panel.strip_plot.titleLabel.text.startswith("Class 4 picked")
    assert panel.frame.pen().style() == Qt.PenStyle.DashLine         # picked, not yet probed


def test_a_click_in_the_live_lab_reaches_the_next_probe(qtbot, make_window):
    config = RunConfig(arch="lenet", task="digits", batch=16, steps=100_000, probe_every=5, checkpoint_every=500)
    window = make_window(config)
    window.run_action.trigger()
    qtbot.waitUntil(lambda: bool(window.lab.slots), timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_3)
    assert window.lab.layout == "images"
    panel = window.panels["images"]

    def probed() -> int | None:
        slots = window.lab.slots
        latest = slots[0].history.latest if slots else {}
        return int(np.argmax(latest["strip/probed"])) if "strip/probed" in latest else None

    qtbot.waitUntil(lambda: probed() == 0 and panel.strip.image is not None, timeout=60_000)
    window.redraw(everything=True)
    click_strip_image(qtbot, panel, 7)
    assert window.lab.config.probe_image == 7
    qtbot.waitUntil(lambda: probed() == 7, timeout=60_000)
    window.run_action.trigger()                              # pause
    window.redraw(everything=True)
    assert panel.maps_plot.titleLabel.text == "Feature maps of the class 7 image"
    assert panel.frame.pen().style() == Qt.PenStyle.SolidLine
    history = window.lab.slots[0].history
    assert any(event.detail.get("probe_image") == 7 for event in history.events)


def test_a_replays_fork_takes_the_picked_probe_image(qtbot, make_window, open_from_menu, lenet_session, tmp_path):
    """Fork from here on a CNN's replay trains the fork live, with the strip image clicked in
    the replay as its probe image (a replay holds the maps it recorded; a fork probes anew)."""
    import shutil

    path = tmp_path / "lenet.gscope"
    shutil.copy(lenet_session, path)
    window = make_window(RunConfig(arch="lenet", task="digits"))
    assert open_from_menu(window, path)
    window.lab.seek(10)
    next(action for action in window.layout_actions if action.text() == "Images").trigger()   # View > Layout
    assert window.lab.layout == "images", window.lab.layout
    panel = window.panels["images"]
    window.redraw(everything=True)
    qtbot.waitUntil(lambda: panel.strip.image is not None and panel.isVisible())
    qtbot.wait(100)
    click_strip_image(qtbot, panel, 6)
    assert window.lab.config.probe_image == 6
    window.timeline.fork.click()
    assert window.lab.kind == "live"
    qtbot.waitUntil(lambda: bool(window.lab.slots) and window.lab.slots[0].parent == (0, 10)
                    and window.lab.state == "finished", timeout=120_000)
    fork = load_session(path).runs[-1]
    assert fork.parent == (0, 10) and fork.config.probe_image == 6
    assert int(np.argmax(fork.arrays_at(20)["strip/probed"])) == 6


def test_a_file_whose_strip_series_disagree_is_drawn_not_trusted(qtbot, replay_only_window, open_from_menu,
                                                                tmp_path):
    """Three strip images with five labels, no image probed, probabilities of no class, feature
    maps of a NaN: the window draws what it can and names no error."""
    from gradscope.records import StepRecord
    from gradscope.session import SessionWriter

    path = tmp_path / "odd.gscope"
    arrays = {"strip/images": np.random.default_rng(0).random((3, 1, 8, 8)).astype(np.float32),
              "strip/labels": np.arange(5), "strip/probed": np.zeros(3, dtype=np.float32),
              "strip/probabilities": np.zeros((3, 0), dtype=np.float32),
              "feature_maps/layer0": np.full((4, 8, 8), np.nan, dtype=np.float32),
              "filters/layer0": np.zeros((4, 1, 3, 3), dtype=np.float32)}
    with SessionWriter(path) as writer:
        run = writer.start_run(RunConfig(arch="cnn", task="digits", depth=2, channels=4))
        for step in range(3):
            writer.add_step(run, StepRecord(step=step, scalars={"loss": 2.3}, arrays=arrays if step == 2 else {}))
    window = replay_only_window
    assert open_from_menu(window, path)
    next(action for action in window.layout_actions if action.text() == "Images").trigger()
    window.redraw(everything=True)
    panel = window.panels["images"]
    assert panel.strip.image is not None and panel.strip_plot.titleLabel.text == "Test images: click one to probe it"
    click_strip_image(qtbot, panel, 2)
    window.redraw(everything=True)
    assert window.errors == [] and window.lab.config.probe_image == 2
