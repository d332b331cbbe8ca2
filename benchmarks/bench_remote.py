"""The quick run against a remote-like target: the reference behind a loopback proxy adding latency.

    .venv/bin/python benchmarks/bench_remote.py [--latency 0,50,150] [--concurrency 1,8] [--workers 2,4]

Each latency runs at each --concurrency with the default `--workers auto`, then at the last
concurrency serially (`--workers 0`) and with `-n W` for each of --workers.

Prints wall time, requests and verdict per (latency, concurrency, workers); every run must give
the same per-requirement verdicts. The proxy delivers each chunk from client to server the latency
after it arrived, so every request pays it once, as a round trip one region away would (a request
written in two chunks, headers then body, pays it once too, not twice).

The runs use compiled bytecode, as an installed harness does (pip compiles it at install): with
PYTHONDONTWRITEBYTECODE set, every process, and so every worker, would spend some 3 s of CPU
compiling the harness and its libraries, which a user's machine does not.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEYS = {"VALORA_API_KEY": "vk_bench_admin_a_4f1c", "VALORA_API_KEY_B": "vk_bench_admin_b_9e2d",
        "VALORA_READ_ONLY_KEY": "vk_bench_ro_a_73ab"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LatencyProxy:
    """127.0.0.1:port -> upstream, each client chunk forwarded after `delay` seconds."""

    def __init__(self, upstream: int, delay: float) -> None:
        self.upstream, self.delay, self.port = upstream, delay, free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        """Each chunk leaves `delay` after it arrived, as on a link with that propagation delay:
        chunks sent back to back (headers, then a body) arrive back to back, not a delay apart."""
        loop = asyncio.get_running_loop()
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while (chunk := await chunks.get())[1]:
                await asyncio.sleep(max(0.0, chunk[0] - loop.time()))
                writer.write(chunk[1])
                await writer.drain()

        delivering = asyncio.create_task(deliver())
        try:
            while data := await reader.read(65536):
                chunks.put_nowait((loop.time() + delay, data))
            chunks.put_nowait((0.0, b""))
            await delivering
        except (ConnectionError, asyncio.CancelledError):
            delivering.cancel()
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        await asyncio.gather(self._pipe(reader, up_writer, self.delay), self._pipe(up_reader, writer, 0))

    def __enter__(self) -> LatencyProxy:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(asyncio.start_server(self._handle, "127.0.0.1", self.port),
                                         self.loop).result()
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)


def start_reference() -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [str(Path(sys.executable).parent / "valora-reference"), "--port", str(port),
               "--api-key", f"org_a:admin:{KEYS['VALORA_API_KEY']}",
               "--api-key", f"org_b:admin:{KEYS['VALORA_API_KEY_B']}",
               "--api-key", f"org_a:read_only:{KEYS['VALORA_READ_ONLY_KEY']}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.readline()  # it prints its URL once it listens
    return process, port


def run(url: str, concurrency: int, seed: int, out: Path, extra: list[str]) -> tuple[dict, float]:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
                    "--base-url", url, "--budget", "quick", "--seed", str(seed), "--report-dir", str(out),
                    "--concurrency", str(concurrency), "--deadline", "1800", *extra],
                   cwd=ROOT, env=ENV, capture_output=True, text=True)
    return json.loads((out / "report.json").read_text()), time.monotonic() - started


ENV = {k: v for k, v in os.environ.items()
       if not k.startswith("VALORA_") and k != "PYTHONDONTWRITEBYTECODE"} | KEYS


def compile_bytecode(url: str, out: Path) -> None:
    """Start a run and collect its checks once, so every module the runs import is compiled."""
    subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
                    "--collect-only", "--base-url", url, "--report-dir", str(out)],
                   cwd=ROOT, env=ENV | {"VALORA_COLLECT": "1"}, capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", default="0,50,150", help="milliseconds, comma-separated")
    parser.add_argument("--concurrency", default="1,8", help="values of --concurrency, comma-separated")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--workers", default="", help="also run with -n W (pytest-xdist) at each latency, "
                                                       "comma-separated, e.g. 2,4")
    args = parser.parse_args()
    process, port = start_reference()
    baseline: dict[str, str] | None = None
    same = True
    print(f"{'latency':>8} {'N':>3} {'extra':>11} {'workers':>7} {'seconds':>8} {'requests':>8} "
          f"{'verdict':>10}  verdicts")
    try:
        top = int(args.concurrency.split(",")[-1])
        runs = [(int(ms), int(n), extra) for ms in args.latency.split(",")
                for n, extra in [(int(n), []) for n in args.concurrency.split(",")]
                + [(top, ["--workers", "0"])]  # the default, serial: what the workers add
                + [(top, ["-n", w]) for w in args.workers.split(",") if w]]
        with tempfile.TemporaryDirectory() as tmp:
            compile_bytecode(f"http://127.0.0.1:{port}", Path(tmp) / "compile")
            for index, (ms, n, extra) in enumerate(runs):
                with LatencyProxy(port, ms / 1000) as proxy:
                    report, seconds = run(f"http://127.0.0.1:{proxy.port}", n, args.seed,
                                          Path(tmp) / str(index), extra)
                statuses = {r["id"]: r["status"] for r in report["requirements"]}
                baseline = baseline or statuses
                agree = statuses == baseline
                same &= agree
                print(f"{ms:>6}ms {n:>3} {' '.join(extra) or '-':>11} "
                      f"{report['config'].get('workers', 0):>7} {seconds:>8.1f} "
                      f"{report['stats'].get('requests', 0):>8} {report['verdict']:>10}  "
                      f"{'same' if agree else 'DIFFERENT'}", flush=True)
    finally:
        process.terminate()
    print("verdicts identical across runs" if same else "VERDICTS DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
