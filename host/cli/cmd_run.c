/* cmd_run.c — `qtr run [-c FILE]`: the server. */
#include "cli/cli.h"
#include "cli/usage.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "core/log.h"
#include "core/sd_notify.h"

typedef struct run_state {
    struct event_base *base;
    qh_engine *engine;
    int stop_signal;
} run_state;

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    run_state *r = arg;
    r->stop_signal = (int)sig;
    qh_info("host", "%s received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopbreak(r->base);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig; (void)what;
    run_state *r = arg;
    char err[512];
    qh_info("host", "SIGHUP received: reloading the policy and the plugins' files");
    qh_engine_reload_policy(r->engine, err, sizeof err);
}

int qh_cmd_run(int argc, char **argv)
{
    /* A reload (SIGHUP) that arrives while the server is still starting
     * must not kill it: ignored until the loop's handler takes over. */
    signal(SIGHUP, SIG_IGN);
    qh_common_opts o = { 0 };
    for (int i = 0; i < argc; i++) {
        if (qh_usage_is_help(argv[i])) return qh_usage_help("run");
        int c = qh_common_opt(argc, argv, &i, &o);
        if (c < 0) return 2;
        if (c == 0) return qh_usage_unknown_option("run", argv[i]);
    }
    qh_common_log_init(&o, "info");
    qh_config cfg;
    if (qh_common_load_config(&o, qh_config_default_run(), &cfg) != 0) return 2;
    signal(SIGPIPE, SIG_IGN);   /* a closed socket is an error return, not a death */
    run_state r = { 0 };
    r.base = event_base_new();
    if (!r.base) { fprintf(stderr, "qtr run: cannot create the event loop\n"); qh_config_free(&cfg); return 1; }
    char err[1024] = "";
    r.engine = qh_engine_new(&cfg, r.base, 0, err, sizeof err);
    if (!r.engine) {
        fprintf(stderr, "qtr run: %s\n", err);
        event_base_free(r.base);
        qh_config_free(&cfg);
        return 2;
    }
    int rc = qh_engine_load(r.engine, err, sizeof err);
    if (rc == 0) rc = qh_engine_start(r.engine, err, sizeof err);
    if (rc != 0) {
        qh_error("host", "%s", err);
        fprintf(stderr, "qtr run: %s\n", err);
        qh_engine_free(r.engine);
        event_base_free(r.base);
        qh_config_free(&cfg);
        return rc;
    }
    struct event *s_int = evsignal_new(r.base, SIGINT, on_stop_signal, &r);
    struct event *s_term = evsignal_new(r.base, SIGTERM, on_stop_signal, &r);
    struct event *s_hup = evsignal_new(r.base, SIGHUP, on_sighup, &r);
    event_add(s_int, NULL);
    event_add(s_term, NULL);
    event_add(s_hup, NULL);
    qh_info("host", "running (%s mode, config %s)", cfg.live ? "live" : "paper", cfg.path);
    qh_sd_notifier *sd = qh_sd_notifier_start(r.base);   /* READY=1, watchdog pings (systemd) */
    int loop_rc = event_base_dispatch(r.base);
    qh_sd_notifier_stop(sd);                              /* STOPPING=1 */
    qh_engine_stop(r.engine);
    qh_engine_free(r.engine);
    event_free(s_int);
    event_free(s_term);
    event_free(s_hup);
    event_base_free(r.base);
    qh_config_free(&cfg);
    if (loop_rc < 0) { fprintf(stderr, "qtr run: the event loop failed\n"); return 1; }
    qh_info("host", "clean stop");
    return 0;
}
