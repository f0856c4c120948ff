"""The ffmpeg binary that ships with imageio-ffmpeg, and its errors in plain words.

No system ffmpeg is assumed. Command lines are built with ``ffmpeg-python``
(module ``ffmpeg``) by the callers; this module finds the binary, starts it
with its stderr captured to a temporary file (a pipe could fill up and
deadlock a long encode), and turns the tail of that stderr into one sentence
a records officer can act on.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import ExportError, RedactionError

# Lines ffmpeg prints that say nothing about the failure itself.
_NOISE = re.compile(
    r"^(Conversion failed!|Error opening output files?:.*|Error closing file.*|"
    r"\[out#\d+.*Nothing was written.*|.*Terminating thread with return code.*|"
    r"Exiting normally.*|.*Task finished with error code.*)$"
)


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the bundled ffmpeg binary; a clear error if the wheel lacks it."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as error:  # the package raises RuntimeError, ImportError, OSError...
        raise RedactionError(
            "The bundled ffmpeg program is missing; reinstall bwc-redact (package imageio-ffmpeg)."
        ) from error
    if not os.access(exe, os.X_OK):
        raise RedactionError(f"The bundled ffmpeg program at {exe} cannot be run; reinstall bwc-redact.")
    return exe


@functools.cache
def ffmpeg_version() -> str:
    """First line of ``ffmpeg -version`` (recorded in every manifest)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    )
    first = result.stdout.splitlines()[0] if result.stdout else ""
    return first.strip() or "unknown"


def explain(stderr: str, *, output: Path | str | None = None, action: str = "ffmpeg failed") -> str:
    """One sentence for a user from ffmpeg's stderr (most specific cause first)."""
    text = stderr or ""
    lowered = text.lower()
    target = f" {output}" if output is not None else ""
    if "no space left on device" in lowered:
        return f"The disk is full; could not write{target}."
    if "file too large" in lowered:
        return f"The file system refused a file this large; could not write{target}."
    if "permission denied" in lowered or "read-only file system" in lowered:
        return f"Permission denied; could not write{target}."
    if "width not divisible by 2" in lowered or "height not divisible by 2" in lowered:
        return f"{action}: the encoder cannot use this frame size."
    if "invalid data found when processing input" in lowered or "moov atom not found" in lowered:
        return f"{action}: the input is damaged or not a video ffmpeg can read."
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _NOISE.match(line.strip())]
    detail = lines[-1] if lines else "no reason given"
    # ffmpeg prefixes many lines with a component tag such as "[out#0/mp4 @ 0x55...]".
    detail = re.sub(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*", "", detail)
    detail = detail.rstrip(".")
    return f"{action}: {detail}."


class FfmpegProcess:
    """A running ffmpeg with stderr going to a temporary file.

    ``pass_fds`` lets a caller hand ffmpeg the read end of an ``os.pipe`` and
    name it ``pipe:N`` on the command line, keeping ffmpeg's stdin out of it.
    """

    def __init__(self, args: Sequence[str], *, pass_fds: Sequence[int] = ()) -> None:
        self.args = list(args)
        # Lives as long as the process object, so no with-block here.
        self._stderr = tempfile.TemporaryFile(prefix="bwc-ffmpeg-", suffix=".log")  # noqa: SIM115
        try:
            self.proc = subprocess.Popen(
                self.args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=self._stderr,
                pass_fds=tuple(pass_fds),
                close_fds=True,
            )
        except OSError as error:
            self._stderr.close()
            raise RedactionError(
                f"Could not start the bundled ffmpeg program: {error.strerror or error}."
            ) from error

    def wait(self, timeout: float | None = None) -> int:
        return self.proc.wait(timeout)

    def poll(self) -> int | None:
        return self.proc.poll()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_text(self, limit: int = 16384) -> str:
        """The last ``limit`` bytes of what ffmpeg printed."""
        self._stderr.flush()
        size = self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, size - limit))
        return self._stderr.read().decode("utf-8", "replace")

    def close(self) -> None:
        self.kill()
        self._stderr.close()

    def __enter__(self) -> FfmpegProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run(
    args: Sequence[str],
    *,
    output: Path | str | None = None,
    action: str = "ffmpeg failed",
    error: type[RedactionError] = ExportError,
) -> None:
    """Run ffmpeg to completion; raise ``error`` with a one-sentence reason on failure."""
    with FfmpegProcess(args) as process:
        code = process.wait()
        if code != 0:
            raise error(explain(process.stderr_text(), output=output, action=action))


def base_args() -> list[str]:
    """Binary plus the global options every run uses (quiet, never interactive)."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
