/*
 * binance_mock — a mock of the Binance USD-M futures REST API on 127.0.0.1
 * for tests (and by hand). It prints "PORT <n>" on stdout once listening.
 *
 *   binance_mock [--port N] [--api-key KEY] [--secret SECRET]
 *
 * Port 0 (the default) picks a free port. Key and secret default to the
 * official signing example's, or QTR_BINANCE_API_KEY / _SECRET if set.
 * It also prints "WSPORT <n>": its WebSocket streams (mock_ws.h), over TLS
 * (wss://) when BINANCE_MOCK_TLS_CERT and BINANCE_MOCK_TLS_KEY name PEM files.
 * Stops on SIGINT, SIGTERM or POST /mock/shutdown.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "mock_server.h"
#include "mock_ws.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig; (void)what;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    int port = 0;
    const char *key = getenv("QTR_BINANCE_API_KEY"), *secret = getenv("QTR_BINANCE_API_SECRET");
    if (!key) key = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
    if (!secret) secret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--api-key") && i + 1 < argc) key = argv[++i];
        else if (!strcmp(argv[i], "--secret") && i + 1 < argc) secret = argv[++i];
        else {
            fprintf(stderr, "usage: binance_mock [--port N] [--api-key KEY] [--secret SECRET]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    mock_server srv;
    memset(&srv, 0, sizeof srv);
    srv.st = ms_new(key, secret);
    int bound = 0;
    if (!base || !srv.st || mock_server_start(&srv, base, port, &bound) != 0) {
        fprintf(stderr, "binance_mock: cannot listen on 127.0.0.1:%d\n", port);
        return 1;
    }
    /* wss:// for the streams when given a certificate and key (PEM) */
    const char *cert = getenv("BINANCE_MOCK_TLS_CERT"), *tls_key = getenv("BINANCE_MOCK_TLS_KEY");
    SSL_CTX *tls = NULL;
    if (cert && tls_key) {
        tls = SSL_CTX_new(TLS_server_method());
        if (!tls || SSL_CTX_use_certificate_chain_file(tls, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls, tls_key, SSL_FILETYPE_PEM) != 1) {
            fprintf(stderr, "binance_mock: cannot load BINANCE_MOCK_TLS_CERT/_KEY\n");
            return 1;
        }
    }
    srv.ws = mock_ws_start(base, srv.st, tls);
    if (!srv.ws) {
        fprintf(stderr, "binance_mock: cannot listen for WebSockets on 127.0.0.1\n");
        return 1;
    }
    printf("PORT %d\nWSPORT %d\n", bound, mock_ws_port(srv.ws));
    fflush(stdout);
    struct event *sint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sterm = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sint, NULL);
    event_add(sterm, NULL);
    event_base_dispatch(base);
    event_free(sint);
    event_free(sterm);
    mock_server_stop(&srv);
    mock_ws_free(srv.ws);
    SSL_CTX_free(tls);
    ms_free(srv.st);
    event_base_free(base);
    return 0;
}
