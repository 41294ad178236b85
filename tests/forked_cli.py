"""`cited` commands in real processes forked from one that has already imported the libraries.

A `cited ingest` process spends about 7 s of CPU importing torch, transformers, LlamaIndex, NLTK
and Chroma before it reads a file (a `cited serve` about as much), and the crash and scale-out
tests start eleven of them on 2 cores.
Here each is forked from a multiprocessing forkserver that imported those modules once. Each is
still its own process, running the same ``cli.main`` entry point with its own environment, pid and
file handles, and it is killed by the real signal. Only imports happen before the fork: no model is
loaded and no thread pool started, so the children are not sharing anything a fork would break.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

_PRELOAD = [
    "cli.main",
    "service.app",
    "uvicorn",
    "torch",
    "transformers.models.bert.modeling_bert",
    "chromadb",
    "llama_index.core.node_parser",
    "nltk.tokenize.punkt",
]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(_PRELOAD)


def _run(args: Sequence[str], env: Mapping[str, str], cwd: str, log: str) -> None:
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.argv = ["cited", *args]
    from cli.main import main

    main()


class ForkedCommand:
    """``cited ARGS`` in a forked process, with the part of ``subprocess.Popen``'s interface the
    tests use; its stdout and stderr go to ``log`` together."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._process = _CONTEXT.Process(target=_run, args=(list(args), dict(env), str(cwd), str(log)))
        self._process.start()

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode  # negative: the signal that ended it, as Popen reports it

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: signal.Signals) -> None:
        os.kill(self.pid, sig)

    def terminate(self) -> None:
        self._process.terminate()

    def wait(self, timeout: float) -> int | None:
        self._process.join(timeout)
        return self.returncode

    def communicate(self, timeout: float) -> tuple[str, str]:
        self._process.join(timeout)
        if self._process.exitcode is None:
            self._process.kill()
            self._process.join()
            raise TimeoutError(f"cited did not finish in {timeout} s; its output is in {self.log}")
        return "", self.log.read_text(encoding="utf-8", errors="replace")
