"""A virtual display for a browser with a window (the default, ``HLTV_BROWSER_HEADLESS=0``)
on a server.

Challenges let a windowed Chromium through and not a headless one. A server has no
screen: Xvfb (Debian's ``xvfb``, installed by ``make browser``) is one in memory. The
browser provider (``fetch/provider.py``) starts it on a free display number (Xvfb picks
it, ``-displayfd``) when it launches Chromium and there is no ``DISPLAY`` already, and
stops it when it closes.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import subprocess
import time

logger = logging.getLogger(__name__)

_START_SECONDS = 10.0


class Xvfb:
    def __init__(self, executable: str = "Xvfb") -> None:
        self.executable = executable
        self.process: subprocess.Popen | None = None
        self.display: str | None = None

    def start(self) -> str:
        """Start Xvfb; its display (``:N``). RuntimeError when it cannot start."""
        path = shutil.which(self.executable)
        if path is None:
            raise RuntimeError(
                "HLTV_BROWSER_HEADLESS=0 needs a display: there is no DISPLAY and no Xvfb "
                "(install Debian's xvfb: `make browser`)"
            )
        read_end, write_end = os.pipe()
        try:
            # -noreset: Xvfb would otherwise reset when its last client leaves, and the
            # browser of a handoff crawl comes and goes
            self.process = subprocess.Popen(
                [path, "-displayfd", str(write_end), "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "-noreset"],
                pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True,
            )
            os.close(write_end)
            write_end = -1
            number = _read_line(read_end, time.monotonic() + _START_SECONDS)
        except BaseException:  # Ctrl-C while it starts: no Xvfb left behind
            self.stop()
            raise
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
        if not number.isdigit() or not _accepts_connections(int(number)):
            self.stop()
            raise RuntimeError(f"Xvfb did not start within {_START_SECONDS:g} s")
        self.display = f":{number}"
        logger.info("Started Xvfb on display %s (pid %d) for a windowed Chromium", self.display, self.process.pid)
        return self.display

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        logger.info("Stopped Xvfb on display %s", self.display)


def _read_line(fd: int, deadline: float) -> str:
    """The display number Xvfb writes to ``-displayfd``, up to its newline. Xvfb writes
    the number and the newline separately and dies ("Cannot write display number") if
    the pipe is closed between the two, which a loaded machine makes likely."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 32) if ready else b""
        if not chunk:  # timed out, or Xvfb exited
            break
        data += chunk
    return data.decode(errors="replace").strip() if data.endswith(b"\n") else ""


def _accepts_connections(number: int) -> bool:
    """Whether display ``number`` answers on its socket: a browser started before it does
    fails with "Missing X server"."""
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        for address in (f"/tmp/.X11-unix/X{number}", f"\0/tmp/.X11-unix/X{number}"):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                try:
                    probe.connect(address)
                except OSError:
                    continue
                return True
        time.sleep(0.05)
    return False
