"""`qtr run` under a fake systemd: READY=1 once it runs, WATCHDOG=1 at half of
$WATCHDOG_USEC while the loop turns, STOPPING=1 on SIGTERM, to an abstract
$NOTIFY_SOCKET bound here. Also QTR_DASHBOARD_LISTEN, which moves the built-in
default's dashboard to a free port (and makes it required)."""
import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from qtrtest import Server, check, finish, free_port, http_get, run  # noqa: E402


def receive(sock, until):
    """Datagrams until the deadline or `until(messages)` is true."""
    got = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not until(got):
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            got.append(sock.recv(256).decode())
        except socket.timeout:
            break
    return got


def notify_protocol_and_dashboard_listen():
    name = f"qtr-e2e-notify-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    port = free_port()
    env = dict(os.environ, NOTIFY_SOCKET="@" + name, WATCHDOG_USEC="200000",
               QTR_DASHBOARD_LISTEN=f"127.0.0.1:{port}")
    env.pop("WATCHDOG_PID", None)
    d = tempfile.mkdtemp(prefix="qtr_notify_")
    s = Server([], cwd=d, env=env)            # the built-in default config
    try:
        first = receive(sock, lambda m: len(m) >= 1)
        check(first[:1] == ["READY=1"], f"READY=1 first: {first} {s.text()[-2000:]}")
        check("running (paper mode" in s.text(), "READY=1 comes after the server runs")
        pings = receive(sock, lambda m: m.count("WATCHDOG=1") >= 3)
        check(pings.count("WATCHDOG=1") >= 3 and set(pings) == {"WATCHDOG=1"},
              f"WATCHDOG=1 pings every 100 ms: {pings}")
        status, body = http_get(port, "/health/all")
        check(status in (200, 503) and '"components"' in body,
              f"the dashboard answers /health/all on QTR_DASHBOARD_LISTEN's port {port}: {status} {body[:300]}")
        rc_check, out, err = run(["check", "--url", f"http://127.0.0.1:{port}"], timeout=60)
        check(rc_check in (0, 1) and "CRITICAL" not in out,
              f"qtr check against it is not CRITICAL: exit {rc_check}\n{out}{err}")
        s.p.send_signal(signal.SIGTERM)
        rest = receive(sock, lambda m: "STOPPING=1" in m)
        check("STOPPING=1" in rest, f"STOPPING=1 on SIGTERM: {rest}")
    finally:
        rc = s.stop(signal.SIGTERM)
        sock.close()
    check(rc == 0, f"exit 0 after SIGTERM, got {rc}: {s.text()[-2000:]}")


def without_notify_socket_nothing_changes():
    d = tempfile.mkdtemp(prefix="qtr_nonotify_")
    env = dict(os.environ, QTR_DASHBOARD_LISTEN=f"127.0.0.1:{free_port()}")
    env.pop("NOTIFY_SOCKET", None)
    s = Server([], cwd=d, env=env)
    check(s.wait_for("running (paper mode", 20), "runs without NOTIFY_SOCKET: " + s.text()[-2000:])
    rc = s.stop(signal.SIGTERM)
    check(rc == 0 and "systemd notified" not in s.text(), f"no notification outside systemd, exit {rc}")


def bad_dashboard_listen_is_refused():
    d = tempfile.mkdtemp(prefix="qtr_badlisten_")
    env = dict(os.environ, QTR_DASHBOARD_LISTEN="not-an-address")
    env.pop("NOTIFY_SOCKET", None)
    s = Server([], cwd=d, env=env)
    deadline = time.monotonic() + 30
    while s.p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    rc = s.stop(signal.SIGTERM)
    check(rc == 2 and "listen" in s.text(),
          f"a bad QTR_DASHBOARD_LISTEN is refused (exit 2, naming listen), got {rc}: {s.text()[-2000:]}")


notify_protocol_and_dashboard_listen()
without_notify_socket_nothing_changes()
bad_dashboard_listen_is_refused()
finish()
