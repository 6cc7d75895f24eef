"""Progress bars for long calls: a Jupyter widget-free HTML bar in a notebook, one line redrawn
with carriage returns on a terminal (``sys.stderr``), nothing when ``progress=False``.

The native drivers call ``update(done, total, seconds, stage)`` about ten times a second from
the calling thread and ``close(interrupted)`` at the end.
"""
import html
import sys


def _in_notebook():
    """Whether the caller runs in a Jupyter kernel (an IPython ZMQ shell)."""
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    try:
        shell = ip.get_ipython()
    except Exception:  # pragma: no cover - IPython without a shell
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _line(label, done, total, seconds, stage, width=30):
    frac = 1.0 if total <= 0 else min(1.0, done / total)
    filled = int(round(frac * width))
    what = f"{label} {stage}".strip() if stage else label
    eta = ""
    if 0 < frac < 1 and seconds > 0:
        eta = f", {seconds * (1 - frac) / frac:.0f} s left"
    return f"{what} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} {seconds:.1f} s{eta}"


class TextBar:
    """One line on ``stream`` (default ``sys.stderr``), redrawn in place."""

    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self._last = None
        self._width = 0

    def update(self, done, total, seconds, stage=""):
        state = (done, total, stage, int(seconds * 2))
        if state == self._last:
            return
        self._last = state
        text = _line(self.label, done, total, seconds, stage)
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def close(self, interrupted=False):
        if interrupted:
            self.stream.write(" (interrupted)")
        self.stream.write("\n")
        self.stream.flush()


class NotebookBar:
    """An HTML ``<progress>`` bar in the notebook's output, updated in place."""

    def __init__(self, label):
        from IPython.display import HTML, display

        self.label = label
        self._html = HTML
        self._handle = display(HTML(self._render(0, 0, 0.0, "")), display_id=True)
        self._last = None

    def _render(self, done, total, seconds, stage, note=""):
        text = html.escape(_line(self.label, done, total, seconds, stage) + note)
        value = done if total > 0 else 1
        return (
            f'<div><progress value="{value}" max="{max(total, 1)}" style="width:30em"></progress> '
            f"<code>{text}</code></div>"
        )

    def update(self, done, total, seconds, stage=""):
        state = (done, total, stage, int(seconds * 2))
        if state == self._last:
            return
        self._last = state
        self._seconds = seconds
        self._handle.update(self._html(self._render(done, total, seconds, stage)))

    def close(self, interrupted=False):
        if interrupted and self._last is not None:
            done, total, stage, _ = self._last
            self._handle.update(
                self._html(
                    self._render(done, total, getattr(self, "_seconds", 0.0), stage, " (interrupted)")
                )
            )


def bar(label, progress=True):
    """The bar for a call: ``progress`` True picks the notebook or the terminal bar, False or
    None shows nothing, and any object with ``update``/``close`` methods is used as it is."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return NotebookBar(label) if _in_notebook() else TextBar(label)
    if hasattr(progress, "update") and hasattr(progress, "close"):
        return progress
    raise TypeError("progress: expected True, False or an object with update() and close()")
