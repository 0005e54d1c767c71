"""A JSON-able summary of a session file, and its human-readable text, for `gradscope info`."""
from __future__ import annotations

import datetime
import math
import os
from typing import Any

from gradscope.families import RECURRENT, family_of
from gradscope.records import EventKind
from gradscope.session.reader import Session, open_session


def session_info(source: str | os.PathLike | Session) -> dict[str, Any]:
    """Runs, configs, step counts, series (kind, dtype, per-step shape, rows), events, checkpoints."""
    if isinstance(source, Session):
        return _summarise(source)
    with open_session(source) as session:
        return _summarise(session)


# a summary lists the first events of a run, and how many there are (a run may hold a million)
SHOWN_EVENTS = 1000


def _summarise(session: Session) -> dict[str, Any]:
    runs = []
    for run in session.runs:
        steps = run.steps
        series = {}
        for name, (kind, dtype, shape) in sorted(run.series_names().items()):
            series[name] = {"kind": kind, "dtype": dtype, "shape": list(shape),
                            "rows": int(len(run.series_steps(name)))}
        comparison = next((dict(event.detail) for event in run.first_events(1, EventKind.COMPARISON.value)), None)
        runs.append({
            "id": run.id,
            "state": run.state.value,
            "parent": None if run.parent is None else {"run": run.parent[0], "step": run.parent[1]},
            "created": run.created,
            "config": run.config.to_dict(),
            "model": family_of(run.config.arch).describe(run.config),
            "comparison": comparison,
            "steps": {"count": int(len(steps)),
                      "first": int(steps[0]) if len(steps) else None,
                      "last": int(steps[-1]) if len(steps) else None},
            "series": series,
            "event_count": run.event_count(),
            "events": [{"step": e.step, "kind": e.kind, "detail": dict(e.detail), "wall_time": e.wall_time}
                       for e in run.first_events(SHOWN_EVENTS)],
            "bookmarks": [{"id": b.id, "step": b.step, "note": b.note, "created": b.created}
                          for b in run.bookmarks],
            "checkpoints": [int(step) for step in run.checkpoint_steps()],
            "probe_batch": {name: {"dtype": a.dtype.name, "shape": list(a.shape)}
                            for name, a in run.probe_batch.items()},
        })
    return _finite({"file": str(session.path), "schema_version": session.schema_version,
                    "writer": session.meta.get("writer"), "notices": list(session.notices), "runs": runs})


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity (a file's event detail may hold them): they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def format_info(summary: dict[str, Any]) -> str:
    """The summary as text for a terminal. Every text that came from the file is shown as
    data: control characters escaped, long texts cut (a file could otherwise clear the screen,
    retitle the terminal or print lines that look like ours)."""
    lines = [f"{shown(summary['file'], 500)}  (schema {summary['schema_version']}, "
             f"written by {shown(summary.get('writer') or 'unknown')}, {len(summary['runs'])} run(s))"]
    lines += [f"warning: {shown(notice, 500)}" for notice in summary.get("notices", [])]
    for run in summary["runs"]:
        config, steps = run["config"], run["steps"]
        created = _date(run["created"])
        parent = f", forked from run {run['parent']['run']} at step {run['parent']['step']}" \
            if run["parent"] else ""
        lines.append("")
        if config.get("arch") in RECURRENT.archs:
            what = f"{shown(config['arch'])} H={config['hidden']} on {shown(config['task'])} T={config['seq_len']}"
        else:
            what = f"{shown(config['arch'])} ({shown(run.get('model', ''))}) on {shown(config['task'])}"
        lines.append(f"run {run['id']}: {what}, {run['state']}, created {created}{parent}")
        span = f" ({steps['first']}..{steps['last']})" if steps["count"] else ""
        lines.append(f"  steps: {steps['count']}{span}")
        comparison = run.get("comparison")
        if isinstance(comparison, dict):
            runs, varies = comparison.get("runs"), comparison.get("varies")   # a file may say anything
            others = [str(other) for other in (runs if isinstance(runs, list) else []) if other != run["id"]][:10]
            varies = ", ".join(str(name) for name in (varies if isinstance(varies, list) else []))[:200]
            lines.append(f"  compared in lockstep with run{'s' * (len(others) != 1)} {', '.join(others)}"
                         + (f" (varying {varies})" if varies else ""))
        checkpoints = run["checkpoints"]
        listed = ", ".join(map(str, checkpoints[:8])) + (", ..." if len(checkpoints) > 8 else "")
        lines.append(f"  checkpoints: {len(checkpoints)}" + (f" at {listed}" if checkpoints else ""))
        if run["probe_batch"]:
            lines.append("  probe batch: " + ", ".join(
                f"{shown(name)} {entry['dtype']}{entry['shape']}" for name, entry in run["probe_batch"].items()))
        lines.append(f"  series: {len(run['series'])}")
        names = {name: shown(name) for name in run["series"]}
        width = max((len(name) for name in names.values()), default=0)
        for name, entry in run["series"].items():
            shape = "scalar" if entry["kind"] == "scalar" else f"{entry['dtype']}{entry['shape']}"
            lines.append(f"    {names[name]:<{width}}  {shape:<18} {entry['rows']} rows")
        lines.append(f"  events: {run['event_count']}")
        for event in run["events"][:20]:
            detail = shown(", ".join(f"{k}={v}" for k, v in event["detail"].items()), 200)
            lines.append(f"    step {event['step']}: {shown(event['kind'])}" + (f" ({detail})" if detail else ""))
        if run["event_count"] > 20:
            lines.append(f"    ... {run['event_count'] - 20} more")
        bookmarks = run.get("bookmarks", [])
        lines.append(f"  bookmarks: {len(bookmarks)}")
        for bookmark in bookmarks[:50]:
            note = _one_line(bookmark["note"])
            lines.append(f"    step {bookmark['step']}" + (f": {note}" if note else "")
                         + f"  [#{bookmark['id']}]")
        if len(bookmarks) > 50:
            lines.append(f"    ... {len(bookmarks) - 50} more")
    return "\n".join(lines)


def _date(created: Any) -> str:
    """A creation time as a date; one no calendar can show (before 1970, past the year 9999)
    as the number the file holds."""
    try:
        if created > 0:
            return datetime.datetime.fromtimestamp(float(created)).isoformat(" ", "seconds")
    except (OverflowError, OSError, ValueError, TypeError):
        pass
    return f"at an impossible time ({shown(created, 24)})"


def shown(text: Any, width: int = 80) -> str:
    """A text from the file, as a terminal may show it: control characters escaped, cut to `width`."""
    shown = "".join(char if char.isprintable() else repr(char)[1:-1] for char in str(text))
    return shown if len(shown) <= width else shown[:width - 3] + "..."


def _one_line(note: str, width: int = 100) -> str:
    # a note is the user's free text, or a stranger's: no newlines or terminal escapes get through
    text = " ".join("".join(c if c.isprintable() else " " for c in note).split())
    return text if len(text) <= width else text[:width - 3] + "..."
