"""The bus between real qtr processes over a real redis-server (free loopback
port, started and stopped here):

 - bad config: an unknown role, a role without its plugins, a bad url: one
   clear line and exit 2; qtr bus status on an unreachable Redis: exit 2;
 - a strategy host and an execution host, paper exchange: the execution host
   is killed (-9) mid-run and restarted; no order is sent twice (the store's
   orders carry their signal's host#seq), every order comes from a signal of
   the stream, every signal sent after the restart is executed or refused as
   stale, nothing stays pending; the strategy host killed (-9) mid-flush
   leaves no half event (nothing undecodable is read);
 - two execution hosts in one group and a strategy host that takes its
   candles from Redis (market source "exchange"): no signal acted on by both;
 - an observer fed from the streams: its store holds the execution host's
   fills and orders; it has no exchange plugin, and neither has the
   strategy host beside it, whose signals reach the execution host and whose
   direct order (host->submit_order) is refused "no_exchange", not sent; a
   fill entry copied into the candle stream is refused, logged and shown in
   the observer's health;
 - bad exchange configs per role: an observer with one, an execution host
   without, a strategy host without one and without candles: exit 2 naming
   the key;
 - a full disk buffer on an execution host (Redis unreachable): the log
   says so, a CRITICAL alert, the ESS trips;
 - a Redis too old for the consumers (6.0, no XAUTOCLAIM; a stand-in):
   the execution host says so once and takes nothing, qtr bus status exits 2."""
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import busfx  # noqa: E402
import qtrtest  # noqa: E402
from qtrtest import check  # noqa: E402

STRATEGY = '{ kind = "strategy", name = "ma_cross", options = { fast = 2, slow = 5, order_notional = "200" } },'
FROM_REDIS = 'market = { source = "exchange", symbols = { "BTCUSDT" } },'
EXEC_BUS = ('mirror = { "candle", "order_update", "fill", "position", "ess_state", "equity", "alert" }, '
            'consume = { "signal" }, group = "execution", claim_idle_ms = 1000')


def bad_config(d, redis):
    cases = [
        ("role.lua", busfx.host_config(os.path.join(d, "role.lua"), d, "h1", "trader", redis.port, "", ""), "role"),
        ("norole.lua", busfx.host_config(os.path.join(d, "norole.lua"), d, "s1", "strategy", redis.port, "", ""),
         'role = "strategy" needs at least one strategy plugin'),
        ("url.lua", qtrtest.write(os.path.join(d, "url.lua"),
                                  open(os.path.join(d, "role.lua")).read().replace('"trader"', '"all"')
                                  .replace(f"redis://127.0.0.1:{redis.port}/0", "redis://127.0.0.1:99999")),
         "bus.redis.url: 'redis://127.0.0.1:99999': port must be 1..65535"),
    ]
    for name, path, want in cases:
        rc, out, err = qtrtest.run(["run", "-c", path], timeout=30)
        lines = [ln for ln in err.splitlines() if ln.startswith("qtr")]
        check(rc == 2, f"{name}: exit {rc}, want 2 ({err.strip()[-300:]})")
        check(len(lines) == 1 and want in lines[0], f"{name}: want one line with '{want}', got {lines}")
    # the exchange plugins a role takes
    dash = f'{{ kind = "dashboard", name = "dashboard", file = "{qtrtest.PLUGINS}/dashboard_web.so", ' \
           f'options = {{ listen = "127.0.0.1:{qtrtest.free_port()}" }} }},'
    cases = [
        (busfx.host_config(os.path.join(d, "obsx.lua"), d, "o1", "observer", redis.port, dash,
                           'consume = { "fill" }', market=FROM_REDIS),
         'plugins: role = "observer" sends no orders and takes no exchange plugin'),
        (busfx.host_config(os.path.join(d, "execnx.lua"), d, "e1", "execution", redis.port, "", EXEC_BUS,
                           exchange=False),
         'plugins: role = "execution" needs exactly one exchange plugin, 0 configured'),
        (busfx.host_config(os.path.join(d, "stratnx.lua"), d, "s2", "strategy", redis.port, STRATEGY,
                           'consume = { "fill" }', market=FROM_REDIS, exchange=False),
         'bus.consume: role = "strategy" without an exchange plugin and market.source = "exchange" takes its '
         'candles from Redis: add "candle"'),
    ]
    for path, want in cases:
        rc, out, err = qtrtest.run(["run", "-c", path], timeout=30)
        lines = [ln for ln in err.splitlines() if ln.startswith("qtr")]
        check(rc == 2, f"{os.path.basename(path)}: exit {rc}, want 2 ({err.strip()[-300:]})")
        check(len(lines) == 1 and want in lines[0], f"{os.path.basename(path)}: want one line with '{want}', got {lines}")
    # a buffer path that cannot be made: the refusal names the key, not only the file
    path = busfx.host_config(os.path.join(d, "nobuf.lua"), d, "h5", "all", redis.port, "",
                             'mirror = { "candle" }, buffer = { path = "/proc/qtr-no-such/bus.buf" }')
    rc, out, err = qtrtest.run(["run", "-c", path], timeout=30)
    lines = [ln for ln in err.splitlines() if ln.startswith("qtr")]
    check(rc == 2 and len(lines) == 1 and "bus.buffer.path: /proc/qtr-no-such/bus.buf: cannot open" in lines[0],
          f"an unusable buffer path: exit {rc}, {lines}")
    rc, out, err = qtrtest.run(["bus", "status", "-c", path], timeout=30)
    check(rc == 1 and "cannot be made: /proc/qtr-no-such" in out, f"bus status says so too: exit {rc}: {out!r}")
    check("signing   off: entries are not signed (bus.key_env)" in out, f"bus status: an unsigned bus: {out!r}")
    # bus.key_env names a variable that is not set: the server does not start, bus status says why
    path = busfx.host_config(os.path.join(d, "nokey.lua"), d, "h6", "all", redis.port, "",
                             'mirror = { "candle" }, key_env = "QTR_TEST_NO_SUCH_KEY"')
    env = {k: v for k, v in os.environ.items() if k != "QTR_TEST_NO_SUCH_KEY"}
    refused_without_key(path, env, "bus.key_env: QTR_TEST_NO_SUCH_KEY is not set")
    env["QTR_TEST_NO_SUCH_KEY"] = "short"
    rc, out, err = qtrtest.run(["run", "-c", path], timeout=30, env=env)
    check(rc == 2 and "QTR_TEST_NO_SUCH_KEY holds 5 bytes; the key needs 32" in err, f"a short key: exit {rc}: {err!r}")
    # qtr bus status against a port nobody listens on
    dead = qtrtest.free_port()
    path = busfx.host_config(os.path.join(d, "dead.lua"), d, "h2", "all", dead, "", 'mirror = { "candle" }')
    rc, out, err = qtrtest.run(["bus", "status", "-c", path], timeout=30)
    check(rc == 2 and "unreachable" in out, f"bus status unreachable: exit {rc}, out {out!r}")
    # a Redis that wants a password nobody gave: its own refusal is shown, not 'no PONG'
    locked = busfx.Redis(aof=False)
    try:
        locked.cli("CONFIG", "SET", "requirepass", "s3cret")
        path = busfx.host_config(os.path.join(d, "locked.lua"), d, "h3", "all", locked.port, "", 'mirror = { "candle" }')
        rc, out, err = qtrtest.run(["bus", "status", "-c", path], timeout=30)
        check(rc == 2 and "NOAUTH" in out and "password_env" in out, f"bus status without a password: exit {rc}: {out!r}")
    finally:
        locked.stop()
    # a listener that never answers (not Redis, or a frozen one): said so within the 3 s
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        path = busfx.host_config(os.path.join(d, "silent.lua"), d, "h4", "all", silent.getsockname()[1], "",
                                 'mirror = { "candle" }')
        rc, out, err = qtrtest.run(["bus", "status", "-c", path], timeout=30)
        check(rc == 2 and "no answer to PING within 3 s" in out, f"bus status against silence: exit {rc}: {out!r}")
    finally:
        silent.close()


def tags_of_orders(db):
    rows = qtrtest.store_query(db, "SELECT client_id, reason, status FROM orders")
    tags = []
    for cid, reason, status in rows:
        m = re.search(r"\[([a-z0-9-]+)#(\d+)\]$", reason)
        if m:
            tags.append((m.group(1), int(m.group(2))))
    return rows, tags


def two_hosts(d, redis):
    ex = busfx.host_config(os.path.join(d, "exec.lua"), d, "exec-1", "execution", redis.port, "", EXEC_BUS,
                           signals="capacity = 1000, per_cycle = 256, max_age_ms = 1500")
    # its own market (the same seed): it goes on signalling while the execution host is down
    st = busfx.host_config(os.path.join(d, "strat.lua"), d, "strat-1", "strategy", redis.port, STRATEGY, "")
    e = qtrtest.Server(["-c", ex], cwd=d)
    check(e.wait_for("role execution", 20), "execution host started")
    s = qtrtest.Server(["-c", st], cwd=tempfile.mkdtemp(prefix="qtr_strat_", dir=d))
    check(s.wait_for("role strategy", 20), "strategy host started")
    check(qtrtest.wait_until(lambda: len(redis.entries("qtr:fill")) >= 10, 30), "fills reach the execution host's stream")
    e.stop(signal.SIGKILL)
    time.sleep(3)                       # signals wait in Redis; those older than 1.5 s go stale
    before_restart = max([q for _, q in redis.entries("qtr:signal")] or [0])
    e2 = qtrtest.Server(["-c", ex], cwd=d)
    check(e2.wait_for("role execution", 20), "execution host restarted")
    check(qtrtest.wait_until(lambda: max([q for _, q in redis.entries("qtr:signal")] or [0]) > before_restart + 20, 30),
          "signals flow after the restart")
    s.stop(signal.SIGKILL)              # mid-flush: its last batch may be cut on the socket
    time.sleep(3)                       # the execution host drains what is there
    e2.stop()
    signals = redis.entries("qtr:signal")
    seqs = [q for h, q in signals if h == "strat-1"]
    check(len(seqs) == len(set(seqs)), "each signal once in the stream")
    check(seqs == sorted(seqs), "the stream holds the strategy host's signals in order")
    db = os.path.join(d, "var-exec-1", "qtr.db")
    rows, tags = tags_of_orders(db)
    dup = {t for t in tags if tags.count(t) > 1}
    check(not dup, f"no signal became two orders: {sorted(dup)[:5]}")
    check(all(h == "strat-1" and q in set(seqs) for h, q in tags), "every order comes from a signal of the stream")
    # an order refused by risk keeps only its refusal as reason: refused with a reason
    untagged = [r for r in rows if not re.search(r"\[[a-z0-9-]+#\d+\]$", r[1])]
    check(all(st == "REJECTED" and reason for _, reason, st in untagged),
          f"an order without its signal's tag is a refusal with a reason: {untagged[:3]}")
    log = open(e.log_path).read()
    stale = {int(m) for m in re.findall(r"signal strat-1#(\d+) \(.*?\) refused: stale", log)}
    acted = {q for _, q in tags}
    after = [q for q in seqs if q > before_restart]
    missing = [q for q in after if q not in acted and q not in stale]
    check(len(missing) <= len(untagged), f"signals after the restart neither executed nor refused: {missing[:10]}")
    check(len(stale) > 0, "signals that waited through the outage were refused as stale")
    check(redis.pending("qtr:signal", "execution") == 0, "nothing pending in the group at the end")
    check("undecodable" not in log, "no half event was read")
    unaccounted = len(seqs) - len(acted) - len(stale) - len(untagged)
    check(unaccounted >= 0, "no more outcomes than signals")
    print(f"two hosts: {len(seqs)} signals, {len(acted)} executed, {len(untagged)} refused by risk, {len(stale)} stale, "
          f"{unaccounted} queued but unsent at the kill -9")


def two_execution_hosts(d, redis):
    """Two execution hosts in one group, one strategy host: no signal is acted
    on by both (each order carries its signal's host#seq)."""
    redis.cli("FLUSHALL")
    cfgs = []
    for h in ("exec-a", "exec-b"):
        # one market for everyone: exec-a's candles, through Redis
        bus = EXEC_BUS if h == "exec-a" else EXEC_BUS.replace('"candle", ', "")
        cfgs.append(busfx.host_config(os.path.join(d, f"{h}.lua"), d, h, "execution", redis.port, "", bus,
                                      signals="capacity = 1000, per_cycle = 256, max_age_ms = 1500"))
    st = busfx.host_config(os.path.join(d, "strat2.lua"), d, "strat-2", "strategy", redis.port, STRATEGY,
                           'consume = { "candle" }', market=FROM_REDIS)
    hosts = [qtrtest.Server(["-c", c], cwd=tempfile.mkdtemp(prefix="qtr_exec_", dir=d)) for c in cfgs]
    for h in hosts:
        check(h.wait_for("role execution", 20), "an execution host started")
    s = qtrtest.Server(["-c", st], cwd=tempfile.mkdtemp(prefix="qtr_strat_", dir=d))
    check(qtrtest.wait_until(lambda: len(redis.entries("qtr:signal")) >= 60, 40), "signals flow")
    s.stop()
    time.sleep(2)
    for h in hosts:
        h.stop()
    per_host = []
    for h in ("exec-a", "exec-b"):
        _, tags = tags_of_orders(os.path.join(d, f"var-{h}", "qtr.db"))
        per_host.append({q for _, q in tags})
    both = per_host[0] & per_host[1]
    check(not both, f"signals acted on by both execution hosts: {sorted(both)[:5]}")
    check(per_host[0] and per_host[1], f"both members took signals: {len(per_host[0])} and {len(per_host[1])}")
    check(redis.pending("qtr:signal", "execution") == 0, "nothing pending in the group at the end")
    print(f"two execution hosts: {len(per_host[0])} and {len(per_host[1])} signals acted on, none by both")


def refused_without_key(path, env, says):
    """A config whose key variable is missing: qtr run stops with one line naming the setting and
    the variable (exit 2), and qtr bus status says the same on its signing line (exit 1)."""
    rc, out, err = qtrtest.run(["run", "-c", path], timeout=30, env=env)
    lines = [ln for ln in err.splitlines() if ln.startswith("qtr")]
    check(rc == 2 and len(lines) == 1 and f"{os.path.basename(path)}: {says}" in lines[0],
          f"{says}: qtr run: exit {rc}, {lines}")
    rc, out, _ = qtrtest.run(["bus", "status", "-c", path], timeout=30, env=env)
    check(rc == 1 and f"signing   {says}" in out, f"{says}: bus status: exit {rc}: {out!r}")


def signed_hosts(d, redis):
    """A strategy host and an execution host sharing bus.key_env's key: the
    signals flow and become orders; the same signal written unsigned, as
    anyone with access to Redis could, is refused and shown in the health."""
    redis.cli("FLUSHALL")
    env = dict(os.environ, QTR_TEST_BUS_KEY="e2e-bus-key-0123456789abcdef0123456789abcdef")
    ex = busfx.host_config(os.path.join(d, "exec-k.lua"), d, "exec-k", "execution", redis.port, "",
                           EXEC_BUS + ', key_env = "QTR_TEST_BUS_KEY"',
                           signals="capacity = 1000, per_cycle = 256, max_age_ms = 1500")
    st = busfx.host_config(os.path.join(d, "strat-k.lua"), d, "strat-k", "strategy", redis.port, STRATEGY,
                           'key_env = "QTR_TEST_BUS_KEY"')
    e = qtrtest.Server(["-c", ex], cwd=tempfile.mkdtemp(prefix="qtr_exec_", dir=d), env=env)
    check(e.wait_for("role execution", 20), "the signed execution host started")
    s = qtrtest.Server(["-c", st], cwd=tempfile.mkdtemp(prefix="qtr_strat_", dir=d), env=env)
    check(qtrtest.wait_until(lambda: len(redis.entries("qtr:fill")) >= 5, 30), "signed signals become fills")
    s.stop()
    rc, out, _ = qtrtest.run(["bus", "status", "-c", ex], timeout=30, env=env)
    check("signing   entries signed and checked with the key in $QTR_TEST_BUS_KEY" in out,
          f"bus status: a signed bus: {out!r}")
    # a signal of the stream as anyone could write it: its envelope as version 1, without its mac,
    # under a number of its own
    forge = ("local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2] "
             "local env = e[6] "
             "local v1 = string.char(1) .. string.sub(env, 2, #env - 32) "
             "return redis.call('XADD', KEYS[1], '*', 'h', e[2], 's', e[4], 'e', v1)")
    redis.cli("EVAL", forge, "1", "qtr:signal")
    check(e.wait_for("an unsigned entry (envelope version 1)", 10), "the execution host refuses an unsigned signal")
    log = open(e.log_path).read()
    check("undecodable" not in log, "a signed entry is never undecodable")
    e.stop()
    print(f"signed hosts: {len(redis.entries('qtr:fill'))} fills from signed signals; an unsigned one refused")

    # changing the key (docs/bus.md): the execution host signs with the new key and accepts the
    # old one, while the strategy host still signs with the old; its signals still become fills
    env["QTR_TEST_BUS_KEY_NEXT"] = "e2e-bus-key-the-next-one-0123456789abcdef"
    ex2 = busfx.host_config(os.path.join(d, "exec-k2.lua"), d, "exec-k", "execution", redis.port, "",
                            EXEC_BUS + ', key_env = "QTR_TEST_BUS_KEY_NEXT", accept_key_env = "QTR_TEST_BUS_KEY"',
                            signals="capacity = 1000, per_cycle = 256, max_age_ms = 1500")
    rc, out, _ = qtrtest.run(["bus", "status", "-c", ex2], timeout=30, env=env)
    check("signing   entries signed with the key in $QTR_TEST_BUS_KEY_NEXT, and taken signed with it or with the "
          "key in $QTR_TEST_BUS_KEY" in out, f"bus status while the key changes: {out!r}")
    fills = len(redis.entries("qtr:fill"))
    e = qtrtest.Server(["-c", ex2], cwd=tempfile.mkdtemp(prefix="qtr_exec_", dir=d), env=env)
    check(e.wait_for("role execution", 20), "the execution host started on the new key")
    s = qtrtest.Server(["-c", st], cwd=tempfile.mkdtemp(prefix="qtr_strat_", dir=d), env=env)
    check(qtrtest.wait_until(lambda: len(redis.entries("qtr:fill")) >= fills + 5, 30),
          "signals signed with the old key still become fills on a host that accepts it")
    s.stop()
    e.stop()
    check("mac does not check" not in open(e.log_path).read(), "no entry of the old key was refused")
    # the second key's variable missing: neither qtr run nor bus status goes on as if it were not named
    env.pop("QTR_TEST_BUS_KEY")
    refused_without_key(ex2, env, "bus.accept_key_env: QTR_TEST_BUS_KEY is not set")
    print(f"changing the key: {len(redis.entries('qtr:fill')) - fills} fills from old-key signals on a new-key host")


def build_place_orders(d):
    """tests/e2e/strategy_place_orders.c: a strategy that submits orders itself."""
    so = os.path.join(d, "strategy_place_orders.so")
    src = os.path.join(os.path.dirname(__file__), "..", "e2e", "strategy_place_orders.c")
    p = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c17", "-fPIC", "-fvisibility=hidden", "-shared",
                        "-I", os.path.join(qtrtest.SRC, "sdk", "include"), src, "-o", so],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"strategy_place_orders builds: {p.stderr}")
    return so


def observer(d, redis):
    """An observer fed from the streams: its store holds the execution host's
    fills and orders, the same ones. Neither it nor the strategy host has an
    exchange plugin; the strategy host's own direct order is refused."""
    redis.cli("FLUSHALL")
    place = build_place_orders(d)
    ex = busfx.host_config(os.path.join(d, "exec-o.lua"), d, "exec-o", "execution", redis.port, "", EXEC_BUS,
                           signals="capacity = 1000, per_cycle = 256")
    obs_port = qtrtest.free_port()
    dash = f'{{ kind = "dashboard", name = "dashboard", file = "{qtrtest.PLUGINS}/dashboard_web.so", ' \
           f'options = {{ listen = "127.0.0.1:{obs_port}" }} }},'
    ob = busfx.host_config(os.path.join(d, "obs.lua"), d, "obs-1", "observer", redis.port, dash,
                           'consume = { "candle", "order_update", "fill", "position" }', market=FROM_REDIS,
                           exchange=False)
    direct = f'{{ kind = "strategy", name = "place_orders", file = "{place}", options = {{ count = 1, every_ms = 100 }} }},'
    st = busfx.host_config(os.path.join(d, "strat-o.lua"), d, "strat-o", "strategy", redis.port, STRATEGY + direct,
                           'consume = { "candle" }', market=FROM_REDIS, exchange=False)
    e = qtrtest.Server(["-c", ex], cwd=tempfile.mkdtemp(prefix="qtr_exec_", dir=d))
    o = qtrtest.Server(["-c", ob], cwd=tempfile.mkdtemp(prefix="qtr_obs_", dir=d))
    check(e.wait_for("role execution", 20) and o.wait_for("role observer", 20), "execution host and observer started")
    s = qtrtest.Server(["-c", st], cwd=tempfile.mkdtemp(prefix="qtr_strat_", dir=d))
    check(qtrtest.wait_until(lambda: len(redis.entries("qtr:fill")) >= 20, 40), "fills flow")
    check(s.wait_for("refused: no_exchange: this host sends no orders", 10),
          "the strategy host's direct order is refused: no exchange")
    check(not re.search(r"submit returned 0 ", s.text()), "no direct order of the strategy host was accepted")
    # qtr check on the exchange-less observer: its exchange line is the bus's health, not CRITICAL
    rc, out, err = qtrtest.run(["check", "--url", f"http://127.0.0.1:{obs_port}"], timeout=40)
    line = [ln for ln in out.splitlines() if " exchange " in f" {ln} "]
    check(len(line) == 1 and not line[0].startswith("CRITICAL") and "bus_redis" in line[0],
          f"qtr check: the observer's exchange line follows the bus: {line} ({out!r})")
    # a fill entry copied into the candle stream, as anyone with access to Redis could: the
    # observer refuses it (a stream carries one type), says so, and its health shows it
    copy = ("local e = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][2] "
            "return redis.call('XADD', KEYS[2], '*', unpack(e))")
    redis.cli("EVAL", copy, "2", "qtr:fill", "qtr:candle")
    check(o.wait_for("in the stream of candle events", 10), "the observer refuses a fill found in the candle stream")
    bus = qtrtest.api_json(obs_port, "/health/all")["components"].get("bus_redis", {})
    check(bus.get("status") == "DEGRADED" and "entries refused" in bus.get("reason", ""),
          f"the observer's bus_redis health shows the refusal: {bus}")
    s.stop()
    time.sleep(1)
    e.stop()
    time.sleep(1)
    o.stop()
    q = "SELECT fill_id, client_id, side, qty, price FROM fills ORDER BY fill_id"
    ef = qtrtest.store_query(os.path.join(d, "var-exec-o", "qtr.db"), q)
    of = qtrtest.store_query(os.path.join(d, "var-obs-1", "qtr.db"), q)
    check(len(ef) >= 20 and ef == of, f"the observer's store holds the execution host's fills: {len(ef)} and {len(of)}")
    q = "SELECT client_id, status, filled_qty FROM orders ORDER BY client_id"
    eo = qtrtest.store_query(os.path.join(d, "var-exec-o", "qtr.db"), q)
    oo = qtrtest.store_query(os.path.join(d, "var-obs-1", "qtr.db"), q)
    check(eo == oo, f"and its orders: {len(eo)} and {len(oo)}")
    _, tags = tags_of_orders(os.path.join(d, "var-exec-o", "qtr.db"))
    check(tags and all(h == "strat-o" for h, _ in tags),
          f"the execution host's orders come from the exchange-less strategy host's signals: {tags[:3]}")
    print(f"observer: {len(of)} fills and {len(oo)} orders, the same as the execution host's")


def full_buffer(d):
    dead = qtrtest.free_port()
    ex = busfx.host_config(os.path.join(d, "full.lua"), d, "exec-9", "execution", dead, "",
                           EXEC_BUS.replace("claim_idle_ms = 1000", "claim_idle_ms = 1000, buffer = { max_events = 20 }"))
    e = qtrtest.Server(["-c", ex], cwd=d)
    check(e.wait_for("disk buffer full (20 events)", 20), "the log says the buffer is full")
    check(e.wait_for("bus_buffer_full", 10) or e.wait_for("bus disk buffer full", 10), "a CRITICAL alert")
    check(e.wait_for("ESS", 10) and re.search(r"(?i)ess.*trip", e.text()) is not None, "the ESS tripped")
    e.stop()
    rc, out, _ = qtrtest.run(["bus", "status", "-c", ex], timeout=30)
    check(rc == 2 and "20 of 20 events" in out, f"bus status shows the full buffer: exit {rc}: {out!r}")
    # the ESS trip and the alert that the buffer is full took the reserve: the other hosts learn them
    check(re.search(r"\((\d+) more in the reserve for ESS states and alerts\)", out) is not None,
          f"the ESS state and the alert are in the buffer's reserve: {out!r}")
    # Redis back, the server stopped: the buffer still waits, so degraded (1)
    late = busfx.Redis(port=dead)
    try:
        rc, out, _ = qtrtest.run(["bus", "status", "-c", ex], timeout=30)
        check(rc == 1 and "connected" in out and "20 of 20 events" in out, f"bus status degraded: exit {rc}: {out!r}")
        # the host back with Redis: the buffer replays, the trip and the alert with it
        e = qtrtest.Server(["-c", ex], cwd=d)
        check(qtrtest.wait_until(lambda: any(h == "exec-9" for h, _ in late.entries("qtr:alert")), 20),
              "the buffer-full alert reaches Redis after the outage")
        check(any(h == "exec-9" for h, _ in late.entries("qtr:ess_state")), "and the ESS trip")
        e.stop()
    finally:
        late.stop()


class OldRedis:
    """A stand-in for Redis 6.0 on a free loopback port: INFO server says redis_version:6.0.16,
    PING answers PONG, anything else OK or an error, as a Redis without XAUTOCLAIM would."""

    def __init__(self):
        import socketserver
        import threading

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                while True:
                    line = self.rfile.readline()
                    if not line.startswith(b"*"):
                        return
                    args = []
                    for _ in range(int(line[1:])):
                        n = int(self.rfile.readline()[1:])
                        args.append(self.rfile.read(n + 2)[:-2].decode(errors="replace").upper())
                    if args[:1] == ["INFO"]:
                        body = b"# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\n"
                        self.wfile.write(b"$%d\r\n%s\r\n" % (len(body), body))
                    elif args[:1] == ["PING"]:
                        self.wfile.write(b"+PONG\r\n")
                    elif args[:1] in (["XAUTOCLAIM"], ["XINFO"], ["XREADGROUP"], ["EVAL"]):
                        self.wfile.write(b"-ERR unknown command '%s'\r\n" % args[0].lower().encode())
                    else:
                        self.wfile.write(b"+OK\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.port = self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def old_redis(d):
    """Redis 6.0 has no XAUTOCLAIM: an execution host refuses it at the connection, saying so, instead
    of leaving a dead member's entries pending; qtr bus status says so and exits 2."""
    old = OldRedis()
    try:
        ex = busfx.host_config(os.path.join(d, "old.lua"), d, "exec-old", "execution", old.port, "", EXEC_BUS)
        rc, out, _ = qtrtest.run(["bus", "status", "-c", ex], timeout=30)
        check(rc == 2 and "Redis 6.0.16" in out and
              "Redis 6.0.16 is too old: consumers need 6.2 or later (XAUTOCLAIM)" in out,
              f"bus status on Redis 6.0: exit {rc}: {out!r}")
        e = qtrtest.Server(["-c", ex], cwd=tempfile.mkdtemp(prefix="qtr_exec_", dir=d))
        check(e.wait_for("Redis 6.0.16 is too old: consumers need 6.2 or later (XAUTOCLAIM); "
                         "nothing is taken from it until it is upgraded", 20),
              "the execution host says Redis is too old: " + e.text()[-1500:])
        time.sleep(1.5)   # reconnects: said once
        check(e.count("is too old") == 1, f"said once, not at each reconnect: {e.count('is too old')}")
        e.stop()
    finally:
        old.stop()
    print("Redis 6.0: refused by the execution host and by bus status")


def main():
    d = tempfile.mkdtemp(prefix="qtr_bus_e2e_")
    redis = busfx.Redis()
    try:
        bad_config(d, redis)
        two_hosts(d, redis)
        two_execution_hosts(d, redis)
        signed_hosts(d, redis)
        observer(d, redis)
        full_buffer(d)
        old_redis(d)
    finally:
        redis.stop()
    if not qtrtest.failures:
        import shutil
        shutil.rmtree(d, ignore_errors=True)
    qtrtest.finish()


if __name__ == "__main__":
    main()
