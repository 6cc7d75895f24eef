"""Progress bars: the terminal line, a caller's own bar object, and the notebook bar (with a
stand-in for IPython, so the test needs no Jupyter)."""
import io
import sys
import types

import thermolab
from thermolab import progress


class Recorder:
    def __init__(self):
        self.updates = []
        self.closed = []

    def update(self, done, total, seconds, stage=""):
        self.updates.append((done, total, seconds, stage))

    def close(self, interrupted=False):
        self.closed.append(interrupted)


def slow_logp(x):
    # About a millisecond per call, so that the bar is redrawn several times.
    s = 0.0
    for k in range(3000):
        s += k * 1e-12
    return -0.5 * x @ x + 0.0 * s, -x


def test_a_callers_bar_object_sees_the_run_and_is_closed_once():
    bar = Recorder()
    m = thermolab.from_logp(slow_logp, dim=2)
    thermolab.sample(m, chains=1, warmup=300, draws=300, seed=0, progress=bar)
    assert bar.closed == [False]
    done = [u[0] for u in bar.updates]
    assert len(done) >= 2 and done == sorted(done) and done[-1] == 600
    assert all(u[1] == 600 for u in bar.updates)


def test_the_terminal_bar_redraws_one_line():
    out = io.StringIO()
    b = progress.TextBar("sampling", stream=out)
    b.update(10, 100, 0.5)
    b.update(100, 100, 1.0, "ladder")
    b.close()
    text = out.getvalue()
    assert text.startswith("\rsampling [###") and text.endswith("\n")
    assert "\n" not in text[:-1] and "sampling ladder" in text and "100/100" in text


def test_outside_a_notebook_the_bar_is_text_and_progress_false_is_none():
    assert isinstance(progress.bar("x", True), progress.TextBar)
    assert progress.bar("x", False) is None
    try:
        progress.bar("x", "yes")
    except TypeError as e:
        assert "progress" in str(e)
    else:
        raise AssertionError("a bad progress argument was accepted")


def test_in_a_notebook_the_bar_is_html_updated_in_place(monkeypatch):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(obj.data)

    class HTML:
        def __init__(self, data):
            self.data = data

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(obj.data)
        return Handle()

    class ZMQInteractiveShell:
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: ZMQInteractiveShell()
    disp = types.ModuleType("IPython.display")
    disp.HTML, disp.display = HTML, display
    ipython.display = disp
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", disp)
    b = progress.bar("evidence", True)
    assert isinstance(b, progress.NotebookBar)
    b.update(5, 10, 1.0, "ais")
    b.close(interrupted=True)
    assert all(s.startswith("<div><progress") for s in shown)
    assert 'value="5" max="10"' in shown[1] and "(interrupted)" in shown[-1]


def test_the_default_bar_writes_to_stderr(capsys):
    m = thermolab.from_logp(lambda x: (-0.5 * x @ x, -x), dim=2)
    thermolab.sample(m, chains=1, warmup=50, draws=50, seed=0)
    err = capsys.readouterr().err
    assert err.startswith("\rsampling [") and "100/100" in err and err.endswith("\n")
