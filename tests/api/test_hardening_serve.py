"""Issue 20, cases 7 and 13, against a real `comptune serve` (a subprocess on 127.0.0.1, the sample
in an SQLite file) with real sockets: slow and idle clients are disconnected once the request read
deadline passes (uvicorn alone kept them open for ever), a kept-alive connection idle after an
answer is closed, other clients are served meanwhile, and the access log never prints a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import SAMPLE, free_port, prepare

READ_TIMEOUT_S = 2.0
KEEP_ALIVE_S = 1.0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    env = prepare(f"sqlite:///{folder / 'comptune.db'}", SAMPLE)
    env.sessions.kw["bind"].dispose()
    port = free_port()
    log = folder / "serve.log"
    variables = {**os.environ, "COMPTUNE_DATABASE_URL": env.url, "COMPTUNE_REQUEST_READ_TIMEOUT_S": str(READ_TIMEOUT_S),
                 "COMPTUNE_KEEP_ALIVE_TIMEOUT_S": str(KEEP_ALIVE_S), "COMPTUNE_WORKERS": "1"}
    with open(log, "w") as out:
        process = subprocess.Popen([str(Path(sys.executable).parent / "comptune"), "serve", "--port", str(port),
                                    "--log-level", "info"], env=variables, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            pytest.fail(f"comptune serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield {"url": url, "port": port, "log": log, "env": env}
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def closed_after(sock: socket.socket, limit: float) -> tuple[float | None, bytes]:
    """Seconds until the server closes `sock` (None if still open after `limit`), and what it sent."""
    started, received = time.monotonic(), b""
    sock.settimeout(0.2)
    while time.monotonic() - started < limit:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - started, received
        if not chunk:
            return time.monotonic() - started, received
        received += chunk
    return None, received


def trickle(port: int, results: list, index: int) -> None:
    """A slow client: a request head sent one byte every 0.5 s, never finished."""
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200
    sock = socket.create_connection(("127.0.0.1", port))
    started = time.monotonic()
    try:
        for byte in head:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.5)
            if time.monotonic() - started > 60:
                break
        results[index] = time.monotonic() - started
    finally:
        sock.close()


def test_three_slow_clients_are_disconnected_and_others_served_meanwhile(served):
    results: list[float | None] = [None, None, None]
    threads = [threading.Thread(target=trickle, args=(served["port"], results, i)) for i in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    for _ in range(5):  # a normal client is served while the slow ones hold their connections
        assert httpx.get(served["url"] + "/healthz", timeout=5).status_code == 200
    for thread in threads:
        thread.join(timeout=90)
    # each was cut off once the deadline passed (its next byte, 0.5 s later, hits a closed socket);
    # before, uvicorn kept them all open for the 100 s their 200 bytes took
    assert all(r is not None and r < READ_TIMEOUT_S + 5 for r in results), results


def test_an_idle_connection_gets_408_and_is_closed(served):
    with socket.create_connection(("127.0.0.1", served["port"])) as sock:
        seconds, received = closed_after(sock, 30)
    assert seconds is not None and READ_TIMEOUT_S - 0.5 < seconds < READ_TIMEOUT_S + 3, seconds
    assert received.startswith(b"HTTP/1.1 408")


def test_a_half_sent_head_is_closed(served):
    with socket.create_connection(("127.0.0.1", served["port"])) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: the head never ends
        seconds, received = closed_after(sock, 30)
    assert seconds is not None and seconds < READ_TIMEOUT_S + 3, seconds


def test_a_body_that_never_arrives_is_closed(served):
    with socket.create_connection(("127.0.0.1", served["port"])) as sock:
        sock.sendall(b"POST /v1/assumption-sets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000\r\n\r\n{\"na")
        seconds, _ = closed_after(sock, 30)
    assert seconds is not None and seconds < READ_TIMEOUT_S + 3, seconds


def test_a_kept_alive_connection_idle_after_an_answer_is_closed(served):
    with socket.create_connection(("127.0.0.1", served["port"])) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_answer(sock).startswith(b"HTTP/1.1 200")
        seconds, _ = closed_after(sock, 30)
    assert seconds is not None and seconds < KEEP_ALIVE_S + 3, seconds


def read_answer(sock: socket.socket) -> bytes:
    """One whole answer (head and Content-Length body) from `sock`."""
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_second_request_on_a_connection_gets_its_own_deadline(served):
    with socket.create_connection(("127.0.0.1", served["port"])) as sock:
        for _ in range(3):  # answers back to back on one connection, each well within the deadline
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(sock).startswith(b"HTTP/1.1 200")
            time.sleep(0.5)


def test_the_access_log_never_prints_a_token(served):
    token = served["env"].tokens["admin"]
    for path in (f"/signin?token={token}", f"/signin?next=%2F&token={token}", f"/v1/me?token={token}",
                 f"/healthz?x={token}", f"/v1/me?access_token={token[3:]}"):
        httpx.get(served["url"] + path, timeout=10)
    httpx.get(served["url"] + "/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    httpx.post(served["url"] + "/signin", data={"token": token}, timeout=10)
    time.sleep(0.5)
    log = served["log"].read_text()
    assert '"GET /signin?[query removed: it held a token] HTTP/1.1" 303' in log, log[-3000:]
    assert '"POST /signin HTTP/1.1" 303' in log and '"GET /v1/me HTTP/1.1" 200' in log
    assert token not in log and token[3:] not in log
