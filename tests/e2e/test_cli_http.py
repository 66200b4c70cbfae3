"""qtr check / ess / reconcile against a fake API on a free loopback port:
the base URL is normalised (a trailing "/" never makes "//api/..."), a URL
that is not http://host[:port][/] is one line and exit 2, and an answer that
never ends is refused at the cap (QH_HTTP_MAX_RESPONSE) with bounded memory."""
import os
import resource
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from qtrtest import QTR, check, finish

seen = []   # the request paths the fake server got


class Api(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def raw_path(self):
        # the target as sent: http.server turns a leading "//" into "/" itself
        path = self.requestline.split()[1]
        seen.append(path)
        return path

    def do_GET(self):
        path = self.raw_path()
        if self.server.endless:
            # a head, then a body that never ends (no Content-Length: until close)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            chunk = b"x" * 65536
            deadline = time.monotonic() + 30
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        bodies = {"/api/ess": '{"state":"ARMED"}', "/api/status": '{"time_ms":%d}' % int(time.time() * 1000),
                  "/health/all": '{"status":"OK","components":{}}', "/api/plugins": "[]"}
        if getattr(self.server, "no_health", False):
            bodies.pop("/health/all")
        if path in bodies:
            self.answer(200, bodies[path])
        else:
            self.answer(404, '{"error":"not found"}')   # as the dashboard answers "//api/..."

    def do_POST(self):
        path = self.raw_path()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if path == "/api/ess/trip":
            self.answer(200, '{"state":"TRIPPED"}')
        else:
            self.answer(404, '{"error":"not found"}')


def serve(endless):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)   # a free port, chosen by the kernel
    srv.daemon_threads = True
    srv.endless = endless
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


with open(QTR, "rb") as _f:
    ASAN = b"__asan_init" in _f.read()


def qtr(args, env=None, limit_memory=False):
    """Run qtr; (rc, stdout, stderr, max RSS in KiB). limit_memory caps the
    address space so that a client without a cap fails here instead of
    taking the machine's memory."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    # AddressSanitizer reserves terabytes of address space for its shadow at
    # start: under it the cap cannot be set, and the RSS check stands alone
    p = subprocess.Popen([QTR] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, preexec_fn=cap if limit_memory and not ASAN else None)
    try:
        out, err = p.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    return p.returncode, out, err, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main():
    srv, url = serve(False)
    env = dict(os.environ, QTR_API_TOKEN="t0ken")
    env.pop("QTR_URL", None)

    # the URL the server prints ("dashboard listening on http://...:PORT/") works
    del seen[:]
    rc, out, err, _ = qtr(["ess", "trip", "--reason", "slash", "--url", url + "/"], env=env)
    check(rc == 0 and seen == ["/api/ess/trip"], f"ess trip with a trailing slash: rc {rc}, paths {seen}, err {err!r}")
    del seen[:]
    rc, out, err, _ = qtr(["ess", "status"], env=dict(env, QTR_URL=url + "//"))
    check(rc == 0 and seen == ["/api/ess"], f"ess status, $QTR_URL with slashes: rc {rc}, paths {seen}, err {err!r}")
    del seen[:]
    rc, out, err, _ = qtr(["check", "--url", url + "/"], env=env)
    check(sorted(seen) == ["/api/ess", "/api/plugins", "/api/status", "/health/all"],
          f"check with a trailing slash asked for {seen}")
    check("answered 404" not in out, f"check with a trailing slash: {out!r}")
    del seen[:]
    rc, out, err, _ = qtr(["reconcile", "--url", url + "/"], env=env)
    check(seen == ["/api/status"], f"reconcile with a trailing slash asked for {seen}")

    # not http://host[:port][/]: one line, exit 2, nothing asked
    for bad in ["notaurl", "https://127.0.0.1:1", "http://127.0.0.1:99999", url + "/api", url + "/?x=1"]:
        for args in (["check", "--url", bad], ["ess", "status", "--url", bad], ["reconcile", "--url", bad]):
            del seen[:]
            rc, out, err, _ = qtr(args, env=env)
            lines = err.strip().splitlines()
            check(rc == 2 and len(lines) == 1 and "not an http://host[:port] URL" in err and not out and not seen,
                  f"{args}: rc {rc}, out {out!r}, err {err!r}")
    # a server without /health/all: the status said as it is, no dangling space ('(404 )' before)
    srv.no_health = True
    rc, out, err, _ = qtr(["check", "--url", url], env=env)
    check(rc == 2 and "GET /health/all failed (404)" in out, f"check without /health/all: rc {rc}, {out!r}")
    srv.no_health = False
    srv.shutdown()

    # an answer that never ends: refused at the cap, quickly, memory bounded
    srv, url = serve(True)
    for args in (["ess", "status", "--url", url], ["check", "--url", url]):
        t0 = time.monotonic()
        rc, out, err, rss = qtr(args, env=env, limit_memory=True)
        took = time.monotonic() - t0
        text = out + err
        check(rc == 2 and "larger than 4194304 bytes" in text and url in text,
              f"{args[0]} against an endless answer: rc {rc}, {text[:400]!r}")
        check(took < 8, f"{args[0]} against an endless answer took {took:.1f} s")
        check(rss < 200 * 1024, f"{args[0]} against an endless answer: max RSS {rss} KiB")
    srv.shutdown()
    finish()


if __name__ == "__main__":
    main()
