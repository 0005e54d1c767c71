"""The settings tree: every run setting the window shows, generated from the settings'
declarations (`gradscope.config`) into pyqtgraph's parameter tree, grouped as they are
declared, each with its tooltip. A view of the lab model: an edit goes to `lab.set_setting`;
the tree shows `lab.config` whenever it changes; a value the lab refuses snaps back and the
reason is shown under the tree."""
from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pyqtgraph.parametertree import Parameter, ParameterTree

from gradscope.config import GROUPS, SETTINGS, RunConfig, Setting
from gradscope.ui import theme

SHOWN = tuple(name for name, declaration in SETTINGS.items() if declaration.window)


def _spec(declaration: Setting, config: RunConfig) -> dict:
    value = getattr(config, declaration.name)
    spec = {"name": declaration.name, "title": declaration.label, "tip": declaration.tip, "value": value}
    if declaration.choices:
        spec.update(type="list", limits=list(declaration.choices))
    elif declaration.kind == "str":
        spec.update(type="str", value=value or "")
    elif declaration.kind == "bool":
        spec["type"] = "bool"
    elif declaration.kind == "int":
        # no upper limit in the spin box: a value out of range is refused with the reason, where
        # a clamped box would take 512 for 100,000 without a word
        spec.update(type="int", limits=(0, None))
    else:
        spec["type"] = "float"
        if declaration.live:
            spec.update(dec=True, step=0.5, minStep=1e-6, siPrefix=False)
        else:
            spec.update(step=0.05)
    return spec


class ControlPanel(QWidget):
    def __init__(self, lab, parent: QWidget | None = None):
        super().__init__(parent)
        self.lab = lab
        config = lab.config
        children = [{"name": group, "type": "group",
                     "children": [_spec(SETTINGS[name], config) for name in SHOWN if SETTINGS[name].group == group]}
                    for group in GROUPS]
        children = [group for group in children if group["children"]]
        self.parameters = Parameter.create(name="settings", type="group", children=children)
        self.tree = ParameterTree(showHeader=False)
        self.tree.setParameters(self.parameters, showTop=False)
        self.tree.setStyleSheet(f"font-size: {theme.FONT_POINTS}pt;")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {theme.COLORS['red']}; font-size: {theme.FONT_POINTS}pt;")
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        self._params = {child.name(): child for group in self.parameters.children() for child in group.children()}
        self._showing = False
        self.parameters.sigTreeStateChanged.connect(self._on_tree_changed)
        lab.events.config_changed.connect(self._on_config_changed)
        lab.events.refused.connect(self._on_refused)
        lab.events.comparison_changed.connect(self._on_comparison_changed)

    @property
    def config(self) -> RunConfig:
        return self.lab.config

    def parameter(self, name: str) -> Parameter:
        return self._params[name]

    def set_value(self, name: str, value) -> bool:
        """Set a control as if the user had; returns whether the lab took it."""
        self._params[name].setValue(value)
        return getattr(self.lab.config, name) == (value if SETTINGS[name].kind != "str" or SETTINGS[name].choices
                                                  else (value or None))

    def _on_config_changed(self, config: RunConfig, name: str) -> None:
        self._show(config)
        if name:
            self.message.hide()

    def _show(self, config: RunConfig) -> None:
        """Show `config` in the controls without treating it as the user's change."""
        self._showing = True
        try:
            for name, param in self._params.items():
                value = getattr(config, name)
                if param.value() != (value if value is not None else ""):
                    param.setValue(value if value is not None else "")
        finally:
            self._showing = False

    def _on_tree_changed(self, root, changes) -> None:
        if self._showing:
            return
        for param, change, value in changes:
            if change != "value" or param.name() not in self._params:
                continue
            name = param.name()
            declaration = SETTINGS[name]
            if declaration.kind == "str" and not declaration.choices:
                value = str(value).strip() or None
            if value == getattr(self.lab.config, name):
                continue
            if not self.lab.set_setting(name, value):
                self._show(self.lab.config)          # the control snaps back to the value in force

    def _on_comparison_changed(self, comparison) -> None:
        """A compared setting says so, with its values, and takes no edit until Stop Comparing."""
        varies = comparison.varies if comparison is not None else ()
        for name, param in self._params.items():
            declaration = SETTINGS[name]
            if name in varies:
                values = ", ".join(str(variant.get(name)) for variant in comparison.variants)
                param.setOpts(title=f"{declaration.label} (compared: {values})", readonly=True)
            elif param.opts.get("readonly"):
                param.setOpts(title=declaration.label, readonly=False)

    def _on_refused(self, text: str) -> None:
        self.message.setText(f"Refused — {text}")
        self.message.show()
