/* mock_server.c — dispatch, checks and fault injection for the mock API. */
#include "mock_server.h"
#include "mock_ws.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>

typedef struct ms_delayed {
    struct ms_delayed *next;
    mock_server *s;
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct event *ev;
    mock_reply reply;
} ms_delayed;

const char *mr_param(mock_req *r, const char *name)
{
    const char *v = evhttp_find_header(&r->qparams, name);
    return v ? v : evhttp_find_header(&r->bparams, name);
}

void mr_error(mock_reply *out, int status, int code, const char *msg)
{
    out->status = status;
    if (out->body) json_decref(out->body);
    out->body = json_pack("{s:i,s:s}", "code", code, "msg", msg);
}

json_t *mj_dec(qtr_dec v)
{
    char b[QTR_DEC_STRLEN];
    return json_string(qtr_dec_format(v, b));
}

/* ------------------------------------------------------------ signing */

/* The text before "&signature=..." (or before a leading "signature="). */
static size_t unsigned_len(const char *s, const char **sig)
{
    const char *p = NULL;
    if (!strncmp(s, "signature=", 10)) p = s;
    else {
        const char *q = strstr(s, "&signature=");
        if (q) p = q + 1;
    }
    *sig = p ? p + 10 : NULL;
    if (!p) return strlen(s);
    return (size_t)(p == s ? 0 : p - s - 1);
}

static bool signature_ok(mock_server *s, mock_req *r)
{
    const char *qs = NULL, *bs = NULL;
    size_t ql = unsigned_len(r->raw_query, &qs), bl = unsigned_len(r->raw_body, &bs);
    const char *sig = qs ? qs : bs;
    if (!sig) return false;
    size_t siglen = strcspn(sig, "&");
    unsigned char md[32];
    unsigned int mdlen = 0;
    size_t total = ql + bl;
    char *msg = malloc(total + 1);
    if (!msg) return false;
    memcpy(msg, r->raw_query, ql);
    memcpy(msg + ql, r->raw_body, bl);
    HMAC(EVP_sha256(), s->st->secret, (int)strlen(s->st->secret), (unsigned char *)msg, total, md, &mdlen);
    free(msg);
    char hex[65];
    for (unsigned i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return siglen == 64 && strncasecmp(hex, sig, 64) == 0;
}

static bool timestamp_ok(mock_server *s, mock_req *r)
{
    const char *ts = mr_param(r, "timestamp"), *rw = mr_param(r, "recvWindow");
    if (!ts) return false;
    long long t = atoll(ts), window = rw ? atoll(rw) : 5000;
    int64_t now = ms_now(s->st);
    return t < now + 1000 && now - t <= window;
}

/* ------------------------------------------------------------ sending */

static void add_limit_header(struct evkeyvalq *h, const char *prefix, const ms_limit *l)
{
    char name[64], val[32], iv[16];
    ms_interval_name(l->interval_ms, iv, sizeof iv);
    snprintf(name, sizeof name, "%s%s", prefix, iv);
    snprintf(val, sizeof val, "%lld", (long long)l->used);
    evhttp_add_header(h, name, val);
}

static void send_reply(mock_server *s, struct evhttp_request *req, mock_reply *rep)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    struct evbuffer *b = evbuffer_new();
    if (rep->raw) {
        evbuffer_add(b, rep->raw, strlen(rep->raw));
        evhttp_add_header(h, "Content-Type", rep->raw[0] == '<' ? "text/html" : "application/json");
    } else {
        char *text = json_dumps(rep->body ? rep->body : json_object(), JSON_COMPACT);
        evbuffer_add(b, text, strlen(text));
        free(text);
        evhttp_add_header(h, "Content-Type", "application/json");
    }
    add_limit_header(h, "X-MBX-USED-WEIGHT-", &s->st->weight);
    if (rep->retry_after > 0) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", rep->retry_after);
        evhttp_add_header(h, "Retry-After", ra);
    }
    if (rep->order_headers) {
        add_limit_header(h, "X-MBX-ORDER-COUNT-", &s->st->orders_a);
        add_limit_header(h, "X-MBX-ORDER-COUNT-", &s->st->orders_b);
    }
    ms_log_status(s->st, s->cur_log, rep->status ? rep->status : 200);
    evhttp_send_reply(req, rep->status ? rep->status : 200, NULL, b);
    evbuffer_free(b);
    if (rep->body) json_decref(rep->body);
    rep->body = NULL;
}

static void on_delayed_close(struct evhttp_connection *conn, void *arg)
{
    mock_server *s = arg;
    for (ms_delayed **pp = &s->delayed; *pp;) {
        ms_delayed *d = *pp;
        if (d->conn == conn) {
            *pp = d->next;
            event_free(d->ev);
            if (d->reply.body) json_decref(d->reply.body);
            free(d);
        } else {
            pp = &d->next;
        }
    }
}

static void on_delay_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    ms_delayed *d = arg;
    mock_server *s = d->s;
    for (ms_delayed **pp = &s->delayed; *pp; pp = &(*pp)->next)
        if (*pp == d) {
            *pp = d->next;
            break;
        }
    evhttp_connection_set_closecb(d->conn, NULL, NULL);
    send_reply(s, d->req, &d->reply);
    event_free(d->ev);
    free(d);
}

static void hold_reply(mock_server *s, struct evhttp_request *req, mock_reply *rep, int delay_ms)
{
    ms_delayed *d = calloc(1, sizeof *d);
    d->s = s;
    d->req = req;
    d->conn = evhttp_request_get_connection(req);
    d->reply = *rep;
    rep->body = NULL;
    d->ev = evtimer_new(s->base, on_delay_done, d);
    struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };
    evtimer_add(d->ev, &tv);
    d->next = s->delayed;
    s->delayed = d;
    evhttp_connection_set_closecb(d->conn, on_delayed_close, s);
}

/* Close the connection without answering, once evhttp is done with the callback. */
static void on_drop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd; (void)what;
    struct evhttp_connection *conn = arg;
    struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
    if (bev && bufferevent_getfd(bev) >= 0) shutdown(bufferevent_getfd(bev), SHUT_RDWR);
    evhttp_connection_free(conn);
}

/* ------------------------------------------------------------ faults */

static const char html_page[] =
    "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>";

/* Faults that answer instead of the exchange (the request is not run). */
static bool answer_without_running(const mf_fault *f, mock_reply *out)
{
    const char *k = f->kind;
    if (!strcmp(k, "429")) mr_error(out, 429, -1003, "Too many requests; current limit is 2400 requests per minute.");
    else if (!strcmp(k, "418")) mr_error(out, 418, -1003, "Way too many requests; IP banned.");
    else if (!strcmp(k, "filter4164"))
        mr_error(out, 400, -4164, "Order's notional must be no smaller than 100 (unless you choose reduce only).");
    else if (!strcmp(k, "filter1111")) mr_error(out, 400, -1111, "Precision is over the maximum defined for this asset.");
    else if (!strcmp(k, "filter4014")) mr_error(out, 400, -4014, "Price not increased by tick size.");
    else if (!strcmp(k, "filter2022")) mr_error(out, 400, -2022, "ReduceOnly Order is rejected.");
    else if (!strcmp(k, "ts1021")) mr_error(out, 400, -1021, "Timestamp for this request is outside of the recvWindow.");
    else if (!strcmp(k, "dup") && !f->exec) mr_error(out, 400, -4116, "ClientOrderId is duplicated.");
    else if (!f->exec && (!strcmp(k, "500") || !strcmp(k, "503") || !strcmp(k, "malformed") || !strcmp(k, "html")))
        ; /* handled after: the same answer, nothing run */
    else return false;
    return out->status != 0;
}

/* Faults applied to the answer after the request ran (or did not, exec=0). */
static void replace_answer(const mf_fault *f, mock_reply *out)
{
    const char *k = f->kind;
    if (!strcmp(k, "500")) mr_error(out, 500, -1001, "Internal error; unable to process your request. Please try again.");
    else if (!strcmp(k, "503")) mr_error(out, 503, -1000, "Unknown error, please check your request or try again later.");
    else if (!strcmp(k, "dup")) mr_error(out, 400, -4116, "ClientOrderId is duplicated.");
    else if (!strcmp(k, "malformed")) {
        if (out->body) json_decref(out->body);
        out->body = NULL;
        out->raw = "{\"orderId\":12,\"symbol\":\"BTCUSDT\",\"status\":";
        out->status = 200;
    } else if (!strcmp(k, "html")) {
        if (out->body) json_decref(out->body);
        out->body = NULL;
        out->raw = html_page;
        out->status = f->status ? f->status : 502;
    } else if (!strcmp(k, "tradeslag") && json_is_array(out->body) && json_array_size(out->body) > 0) {
        /* the trade list lags the order: its newest execution is not there yet */
        json_array_remove(out->body, json_array_size(out->body) - 1);
    } else if (!strcmp(k, "badstatus") && json_is_object(out->body)) {
        json_object_set_new(out->body, "status", json_string("WEIRD_STATUS"));
    }
}

static void run_fault_then_reply(mock_server *s, mock_req *r, const mock_endpoint *ep, const mf_fault *f)
{
    mock_reply rep = { 0 };
    s->st->faults_fired++;
    rep.retry_after = f->retry_after;
    if (answer_without_running(f, &rep)) {
        send_reply(s, r->req, &rep);
        return;
    }
    bool run = f->exec || !strcmp(f->kind, "partial") || !strcmp(f->kind, "badstatus") || !strcmp(f->kind, "tradeslag");
    if (!strcmp(f->kind, "partial")) {
        s->st->pending_plan = (ms_plan){ .steps_left = f->steps > 0 ? f->steps : 2, .ratio_pct = f->ratio_pct };
        snprintf(s->st->pending_plan.end_status, sizeof s->st->pending_plan.end_status, "%s",
                 f->end_status[0] ? f->end_status : "EXPIRED");
        s->st->plan_armed = true;
    }
    if (run) ep->handle(s, r, &rep);
    rep.order_headers = ep->order;
    if (run && f->hide > 0 && !strcmp(r->method, "POST")) {
        const char *cid = mr_param(r, "newClientOrderId"), *algo_cid = mr_param(r, "clientAlgoId");
        ms_order *o = cid ? ms_order_by_cid(s->st, cid) : algo_cid ? ms_algo_by_cid(s->st, algo_cid) : NULL;
        if (o) o->hidden_queries = f->hide;
    }
    if (!strcmp(f->kind, "timeout")) {
        if (!rep.status && !rep.body) mr_error(&rep, 408, -1007, "Timeout waiting for response from backend server.");
        hold_reply(s, r->req, &rep, f->delay_ms > 0 ? f->delay_ms : 3000);
        return;
    }
    if (!strcmp(f->kind, "drop")) {
        if (rep.body) json_decref(rep.body);
        struct timeval zero = { 0, 0 };
        event_base_once(s->base, -1, EV_TIMEOUT, on_drop, evhttp_request_get_connection(r->req), &zero);
        return;
    }
    replace_answer(f, &rep);
    send_reply(s, r->req, &rep);
}

/* ------------------------------------------------------------ dispatch */

static void read_request(mock_req *r, struct evhttp_request *req)
{
    memset(r, 0, sizeof *r);
    r->req = req;
    TAILQ_INIT(&r->qparams);
    TAILQ_INIT(&r->bparams);
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: strcpy(r->method, "GET"); break;
    case EVHTTP_REQ_POST: strcpy(r->method, "POST"); break;
    case EVHTTP_REQ_DELETE: strcpy(r->method, "DELETE"); break;
    case EVHTTP_REQ_PUT: strcpy(r->method, "PUT"); break;
    default: strcpy(r->method, "OTHER"); break;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
    snprintf(r->path, sizeof r->path, "%s", path ? path : "/");
    r->raw_query = strdup(query ? query : "");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    r->raw_body = malloc(n + 1);
    evbuffer_copyout(in, r->raw_body, n);
    r->raw_body[n] = '\0';
    evhttp_parse_query_str(r->raw_query, &r->qparams);
    evhttp_parse_query_str(r->raw_body, &r->bparams);
}

static void free_request(mock_req *r)
{
    evhttp_clear_headers(&r->qparams);
    evhttp_clear_headers(&r->bparams);
    free(r->raw_query);
    free(r->raw_body);
}

static void handle_api(mock_server *s, mock_req *r)
{
    ms_state *st = s->st;
    mock_reply rep = { 0 };
    ms_count_request(st, r->method, r->path);
    const char *cid = mr_param(r, "newClientOrderId");
    if (!cid) cid = mr_param(r, "origClientOrderId");
    if (!cid) cid = mr_param(r, "clientAlgoId");
    s->cur_log = ms_log_request(st, r->method, r->path, cid);
    const mock_endpoint *ep = mock_api_find(r->method, r->path);
    if (!ep) {
        mr_error(&rep, 404, -5000, "Path not found");
        send_reply(s, r->req, &rep);
        return;
    }
    if (ep->is_signed) {
        const char *key = evhttp_find_header(evhttp_request_get_input_headers(r->req), "X-MBX-APIKEY");
        if (!key || strcmp(key, st->api_key) != 0) {
            st->key_failures++;
            mr_error(&rep, 401, -2015, "Invalid API-key, IP, or permissions for action.");
            send_reply(s, r->req, &rep);
            return;
        }
        if (!signature_ok(s, r)) {
            st->signature_failures++;
            mr_error(&rep, 400, -1022, "Signature for this request is not valid.");
            send_reply(s, r->req, &rep);
            return;
        }
    }
    mf_fault f;
    if (mf_take(&s->faults, r->method, r->path, &f)) {
        run_fault_then_reply(s, r, ep, &f);
        return;
    }
    if (ep->is_signed && !timestamp_ok(s, r)) {
        st->timestamp_failures++;
        mr_error(&rep, 400, -1021, "Timestamp for this request is outside of the recvWindow.");
        send_reply(s, r->req, &rep);
        return;
    }
    int64_t now = ms_now(st);
    bool weight_ok = ms_limit_charge(&st->weight, mock_api_weight(ep, r), now);
    bool orders_ok = true;
    if (ep->order) {
        orders_ok = ms_limit_charge(&st->orders_a, 1, now);
        orders_ok = ms_limit_charge(&st->orders_b, 1, now) && orders_ok;
    }
    if (!weight_ok || !orders_ok) {
        st->limit_violations++;
        if (!weight_ok) mr_error(&rep, 429, -1003, "Too many requests; current request weight limit exceeded.");
        else mr_error(&rep, 429, -1015, "Too many new orders; current limit exceeded.");
        rep.order_headers = ep->order;
        send_reply(s, r->req, &rep);
        return;
    }
    ep->handle(s, r, &rep);
    rep.order_headers = ep->order;
    send_reply(s, r->req, &rep);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    mock_server *s = arg;
    mock_req r;
    read_request(&r, req);
    if (!strncmp(r.path, "/mock/", 6)) {
        mock_reply rep = { 0 };
        mock_control(s, &r, &rep);
        send_reply(s, req, &rep);
    } else {
        handle_api(s, &r);
        s->cur_log = -1;
    }
    free_request(&r);
    if (s->ws) mock_ws_flush(s->ws); /* what the request changed, as stream events */
}

int mock_server_start(mock_server *s, struct event_base *base, int port, int *bound_port)
{
    s->base = base;
    s->cur_log = -1;
    s->http = evhttp_new(base);
    if (!s->http) return -1;
    evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT);
    evhttp_set_gencb(s->http, on_request, s);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(s->http, "127.0.0.1", (uint16_t)port);
    if (!bs) return -1;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &len) != 0) return -1;
    *bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

void mock_server_stop(mock_server *s)
{
    while (s->delayed) {
        ms_delayed *d = s->delayed;
        s->delayed = d->next;
        event_free(d->ev);
        if (d->reply.body) json_decref(d->reply.body);
        free(d);
    }
    if (s->http) evhttp_free(s->http);
    s->http = NULL;
}
