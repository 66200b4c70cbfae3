/* mock_exchange.c — see mock_exchange.h. */
#include "mock_exchange.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef BINANCE_MOCK_PATH
#error "BINANCE_MOCK_PATH must name the binance_mock executable"
#endif

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

mock_exchange *mx_start(void)
{
    int fds[2];
    if (pipe(fds) != 0) return NULL;
    pid_t pid = fork();
    if (pid < 0) return NULL;
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(BINANCE_MOCK_PATH, "binance_mock", "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    mock_exchange *mx = calloc(1, sizeof *mx);
    mx->pid = pid;
    char line[64] = "";
    size_t n = 0;
    int64_t deadline = mono_ms() + 5000;
    while (n < sizeof line - 1 && !strchr(line, '\n') && mono_ms() < deadline) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        if (poll(&p, 1, 100) <= 0) continue;
        ssize_t k = read(fds[0], line + n, sizeof line - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
        line[n] = '\0';
    }
    close(fds[0]);
    if (sscanf(line, "PORT %d", &mx->port) != 1 || mx->port <= 0) {
        fprintf(stderr, "binance_mock did not report a port: '%s'\n", line);
        mx_stop(mx);
        return NULL;
    }
    snprintf(mx->base_url, sizeof mx->base_url, "http://127.0.0.1:%d", mx->port);
    return mx;
}

void mx_stop(mock_exchange *mx)
{
    if (!mx) return;
    kill(mx->pid, SIGTERM);
    int64_t deadline = mono_ms() + 2000;
    int st;
    while (waitpid(mx->pid, &st, WNOHANG) == 0) {
        if (mono_ms() > deadline) {
            kill(mx->pid, SIGKILL);
            waitpid(mx->pid, &st, 0);
            break;
        }
        usleep(5000);
    }
    free(mx);
}

typedef struct body { char *data; size_t len; } body;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    body *b = ud;
    char *d = realloc(b->data, b->len + size * n + 1);
    if (!d) return 0;
    memcpy(d + b->len, p, size * n);
    b->len += size * n;
    d[b->len] = '\0';
    b->data = d;
    return size * n;
}

static char *request(mock_exchange *mx, const char *method, const char *pq, long *status)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", mx->base_url, pq);
    CURL *c = curl_easy_init();
    body b = { NULL, 0 };
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (!strcmp(method, "POST")) curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    *status = 0;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(c);
    return b.data;
}

int mx_post(mock_exchange *mx, const char *pq)
{
    long st;
    free(request(mx, "POST", pq, &st));
    return (int)st;
}

char *mx_get(mock_exchange *mx, const char *pq, long *status) { return request(mx, "GET", pq, status); }

static json_t *get_json(mock_exchange *mx, const char *path)
{
    long st;
    char *text = request(mx, "GET", path, &st);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return j;
}

json_t *mx_state(mock_exchange *mx) { return get_json(mx, "/mock/state"); }

json_t *mx_request_log(mock_exchange *mx) { return get_json(mx, "/mock/requests"); }

int mx_accepted(json_t *state, const char *cid, int *attempts)
{
    json_t *p = json_object_get(json_object_get(state, "placements"), cid);
    if (attempts) *attempts = p ? (int)json_integer_value(json_object_get(p, "attempts")) : 0;
    return p ? (int)json_integer_value(json_object_get(p, "accepted")) : 0;
}

json_t *mx_order(json_t *state, const char *cid)
{
    json_t *orders = json_object_get(state, "orders"), *o, *found = NULL;
    size_t i;
    json_array_foreach(orders, i, o)
        if (!strcmp(json_string_value(json_object_get(o, "cid")), cid)) found = o;
    return found;
}

long mx_requests(json_t *state, const char *method_path)
{
    json_t *n = json_object_get(json_object_get(state, "requests"), method_path);
    return n ? (long)json_integer_value(n) : 0;
}

long mx_counter(json_t *state, const char *name)
{
    return (long)json_integer_value(json_object_get(state, name));
}

json_t *mx_trade(json_t *state, const char *cid, size_t index)
{
    json_t *o = mx_order(state, cid), *t;
    if (!o) return NULL;
    json_int_t id = json_integer_value(json_object_get(o, "orderId"));
    size_t i, n = 0;
    json_array_foreach(json_object_get(state, "trades"), i, t)
        if (json_integer_value(json_object_get(t, "orderId")) == id && n++ == index) return t;
    return NULL;
}
