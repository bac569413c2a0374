"""The Xvfb starter against a stand-in that writes its display number the way Xvfb
does: the number, a pause, then the newline, and dies if the pipe was closed between."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hltv_scraper.fetch.xvfb import Xvfb

STANDIN = textwrap.dedent("""\
    #!{python}
    import os, signal, socket, sys, time
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    fd = int(sys.argv[sys.argv.index("-displayfd") + 1])
    display = os.getpid() % 1000 + 5000
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"\\0/tmp/.X11-unix/X{{display}}")
    server.listen()
    os.write(fd, str(display).encode())
    time.sleep({pause})
    try:
        os.write(fd, b"\\n")
    except OSError:
        sys.exit("Cannot write display number")
    os.close(fd)
    while True:
        server.accept()[0].close()
""")


def standin(tmp_path: Path, pause: float) -> str:
    path = tmp_path / "Xvfb"
    path.write_text(STANDIN.format(python=sys.executable, pause=pause))
    path.chmod(0o755)
    return str(path)


@pytest.mark.slow
def test_the_display_number_is_read_up_to_its_newline(tmp_path):
    xvfb = Xvfb(standin(tmp_path, pause=0.5))
    try:
        display = xvfb.start()
        assert display == f":{xvfb.process.pid % 1000 + 5000}"
        with pytest.raises(subprocess.TimeoutExpired):  # it outlives its newline
            xvfb.process.wait(1.0)
    finally:
        xvfb.stop()
    assert xvfb.process is None


@pytest.mark.slow
def test_a_display_server_that_never_says_its_number_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setattr("hltv_scraper.fetch.xvfb._START_SECONDS", 0.5)
    silent = tmp_path / "Xvfb"
    silent.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(60)\n")
    silent.chmod(0o755)
    xvfb = Xvfb(str(silent))
    with pytest.raises(RuntimeError, match="did not start"):
        xvfb.start()
    assert xvfb.process is None
