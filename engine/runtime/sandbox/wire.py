"""Messages between the server and its evaluator processes: plain data in length-prefixed frames.

Requests and replies are tuples of plain data (None, bool, int, float, str, Decimal, dates, times,
durations, lists, tuples, dicts), pickled. What comes back from an evaluator is unpickled with
`decode`, which constructs nothing but those types: an evaluator is where untrusted code runs, so
its replies are treated as untrusted too (no other class can be named, and a frame may be at most
MAX_FRAME bytes).

A frame is a 4-byte big-endian length and that many bytes. Reads honour a deadline, so a hung
evaluator never hangs the server.
"""
from __future__ import annotations

import io
import os
import pickle
import select
import struct
import time
from datetime import date, datetime, time as clock_time, timedelta, timezone
from decimal import Decimal
from typing import Any

MAX_FRAME = 64 * 2**20       # replies carry task data, itself capped at 10 million characters and items
_HEADER = struct.Struct(">I")
_CHUNK = 1 << 20
_SMALL_READ = 1 << 16    # below malloc's mmap threshold: a bigger read buffer costs an mmap per read
_PROTOCOL = pickle.HIGHEST_PROTOCOL

_ALLOWED_CLASSES = {
    ("decimal", "Decimal"): Decimal,
    ("datetime", "date"): date,
    ("datetime", "datetime"): datetime,
    ("datetime", "time"): clock_time,
    ("datetime", "timedelta"): timedelta,
    ("datetime", "timezone"): timezone,
}


class WireError(Exception):
    """A frame could not be read or written (the peer died, overran the deadline or sent garbage)."""


class PeerGone(WireError):
    """The other end closed the connection (an evaluator that crashed or exited)."""


class Timeout(WireError):
    """No complete frame before the deadline."""


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED_CLASSES[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not plain data") from None


def encode(message: Any) -> bytes:
    return pickle.dumps(message, _PROTOCOL)


def decode(payload: bytes) -> Any:
    """Unpickle a message that may only contain plain data."""
    try:
        return _PlainDataUnpickler(io.BytesIO(payload)).load()
    except Exception as exc:  # noqa: BLE001 - any malformed frame is the peer's fault
        raise WireError(f"unreadable message ({type(exc).__name__})") from None


def write_frame(fd: int, payload: bytes) -> None:
    if len(payload) > MAX_FRAME:
        raise WireError(f"message of {len(payload):,} bytes exceeds {MAX_FRAME:,}")
    frame = _HEADER.pack(len(payload)) + payload
    try:
        written = os.write(fd, frame)
        if written < len(frame):
            rest = memoryview(frame)[written:]
            while rest:
                rest = rest[os.write(fd, rest):]
    except (BrokenPipeError, ConnectionResetError):
        raise PeerGone("the connection was closed") from None


class FrameReader:
    """Reads frames from one file descriptor, waiting at most until a deadline.

    A small frame usually arrives in one read; longer ones are put together from several, and
    whatever belongs to the next frame is kept.
    """

    def __init__(self, fd: int):
        self.fd = fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self._buffer = bytearray()

    def read(self, deadline: float | None = None, spin: float = 0.0) -> bytes:
        """The next frame. With `spin`, first wait that long awake (polling, yielding the CPU to
        whoever needs it) before sleeping: an answer or request that comes within it then costs
        no wake-up of this process, which on a busy machine is most of a round trip."""
        if spin and not self._buffer:
            until = time.monotonic() + spin
            while not self._poll.poll(0) and time.monotonic() < until:
                os.sched_yield()
        if not self._buffer:
            chunk = self._chunk(deadline, _SMALL_READ)
            if len(chunk) >= _HEADER.size and _HEADER.unpack_from(chunk)[0] == len(chunk) - _HEADER.size:
                return chunk[_HEADER.size:]
            self._buffer += chunk
        while len(self._buffer) < _HEADER.size:
            self._buffer += self._chunk(deadline, _SMALL_READ)
        (length,) = _HEADER.unpack_from(self._buffer)
        if length > MAX_FRAME:
            raise WireError(f"message of {length:,} bytes exceeds {MAX_FRAME:,}")
        end = _HEADER.size + length
        while len(self._buffer) < end:
            self._buffer += self._chunk(deadline, min(end - len(self._buffer), _CHUNK))
        frame = bytes(self._buffer[_HEADER.size:end])
        del self._buffer[:end]
        return frame

    def _chunk(self, deadline: float | None, size: int) -> bytes:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(max(1, int(remaining * 1000))):
                raise Timeout("no answer before the deadline")
        try:
            chunk = os.read(self.fd, size)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise PeerGone("the connection was closed")
        return chunk
