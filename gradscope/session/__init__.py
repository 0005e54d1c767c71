"""Session files: crash-safe SQLite recordings of runs, and a hardened reader for them.

    with SessionWriter("lesson.gscope") as writer:
        run_id = writer.start_run(config, probe_batch={"x": x, "y": y})
        writer.add_step(run_id, record)          # from the training worker thread
        writer.set_state(run_id, RunState.FINISHED)

    with open_session("lesson.gscope") as session:
        run = session.runs[0]
        run.series("hidden_grad_norm"), run.series_steps("hidden_grad_norm"), run.checkpoint(0)
        run.bookmarks

    add_bookmark("lesson.gscope", run_id=0, step=120, note="the forget gate opens")

Every problem with a file surfaces as `SessionError`, one line naming the file.
"""
from gradscope.session.bookmarks import Bookmark, add_bookmark, edit_bookmark, remove_bookmark
from gradscope.session.errors import MissingEntryError, SessionError
from gradscope.session.info import format_info, session_info
from gradscope.session.reader import Session, load_session, open_session
from gradscope.session.run import Run
from gradscope.session.schema import APPLICATION_ID, SCHEMA_VERSION
from gradscope.session.writer import SessionWriter

__all__ = [
    "APPLICATION_ID", "Bookmark", "MissingEntryError", "Run", "SCHEMA_VERSION", "Session",
    "SessionError", "SessionWriter", "add_bookmark", "edit_bookmark", "format_info", "load_session",
    "open_session", "remove_bookmark", "session_info",
]
