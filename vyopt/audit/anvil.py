"""Anvil processes the audit starts itself: a plain local node, or a fork of another node, on loopback.

Every process is started with a free port on 127.0.0.1 and is stopped by `close()` (also on `with` exit and
at interpreter exit), by its own pid, never by name.

API
    free_port() -> int
    find_anvil() -> str | None                     the anvil binary (PATH first, then the repo's node_modules)
    Anvil(fork_url=None, fork_block=None, chain_id=None)   context manager; .url, .port, .proc, .close()
"""
from __future__ import annotations

import atexit
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from ..contracts import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_anvil() -> str | None:
    found = shutil.which("anvil")
    if found:
        return found
    local = ROOT / "node_modules" / ".bin" / "anvil"
    return str(local) if local.exists() else None


def rpc(url: str, method: str, params=(), timeout: float = 30.0):
    """One JSON-RPC request with the standard library (used before a client exists and for health checks)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        out = json.loads(r.read())
    if "error" in out:
        raise RuntimeError(f"{method}: {out['error']}")
    return out["result"]


def wait_receipt(url: str, tx_hash: str, timeout: float = 60.0) -> dict:
    """The receipt of `tx_hash`: anvil mines on arrival, but under load it may answer the hash a moment before
    the receipt is readable."""
    deadline = time.monotonic() + timeout
    while True:
        receipt = rpc(url, "eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt
        if time.monotonic() > deadline:
            raise TimeoutError(f"no receipt for {tx_hash} on {url} after {timeout} s")
        time.sleep(0.01)


class Anvil:
    """An anvil on 127.0.0.1:<free port>; with fork_url, a fork of that node (pinned to fork_block if given)."""

    def __init__(self, fork_url: str | None = None, fork_block: int | None = None, chain_id: int | None = None,
                 startup_timeout: float = 30.0):
        binary = find_anvil()
        if binary is None:
            raise RuntimeError("anvil not found: run `make setup` (it installs anvil into node_modules/.bin)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.fork_url, self.fork_block = fork_url, fork_block
        cmd = [binary, "--host", "127.0.0.1", "--port", str(self.port), "--silent"]
        if fork_url:
            cmd += ["--fork-url", fork_url]
            if fork_block is not None:
                cmd += ["--fork-block-number", str(fork_block)]
        if chain_id is not None:
            cmd += ["--chain-id", str(chain_id)]
        self.cmd = cmd
        # stderr goes to a file, not a pipe: a pipe nobody reads can fill and stall the node
        self._log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._log)
        atexit.register(self.close)
        deadline = time.monotonic() + startup_timeout
        while True:
            if self.proc.poll() is not None:
                self._log.seek(0)
                err = self._log.read().decode(errors="replace")
                raise RuntimeError(f"anvil exited with {self.proc.returncode}: {err.strip()[:500]}")
            try:
                rpc(self.url, "eth_chainId", timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"anvil did not answer on {self.url} within {startup_timeout} s")
                time.sleep(0.05)

    def close(self) -> None:
        proc = getattr(self, "proc", None)
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Anvil({self.url}{', fork of ' + self.fork_url if self.fork_url else ''})"


def anvil_version() -> str | None:
    binary = find_anvil()
    if binary is None:
        return None
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.splitlines()[0].strip() if out else None
    except Exception:
        return None


__all__ = ["Anvil", "anvil_version", "find_anvil", "free_port", "rpc"]
