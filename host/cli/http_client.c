/* http_client.c — see http_client.h. */
#include "cli/http_client.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_RESPONSE (8u << 20)

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    qh_http_req *r = ud;
    size_t n = size * nmemb;
    if (r->response_len + n > MAX_RESPONSE) return 0;   /* abort: answer too large */
    char *grown = realloc(r->response, r->response_len + n + 1);
    if (!grown) return 0;
    r->response = grown;
    memcpy(r->response + r->response_len, data, n);
    r->response_len += n;
    r->response[r->response_len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    qh_http_req *r = ud;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "Date:", 5) == 0) {
        char buf[128];
        size_t len = n - 5 < sizeof buf - 1 ? n - 5 : sizeof buf - 1;
        memcpy(buf, data + 5, len);
        buf[len] = '\0';
        time_t t = curl_getdate(buf, NULL);
        if (t > 0) r->server_date_s = (int64_t)t;
    }
    return n;
}

void qh_http_run(qh_http_req *reqs, size_t n)
{
    static int inited;
    if (!inited) { curl_global_init(CURL_GLOBAL_DEFAULT); inited = 1; }
    CURLM *multi = curl_multi_init();
    CURL **easy = calloc(n ? n : 1, sizeof *easy);
    struct curl_slist **hdrs = calloc(n ? n : 1, sizeof *hdrs);
    if (!multi || !easy || !hdrs) {
        for (size_t i = 0; i < n; i++) snprintf(reqs[i].error, sizeof reqs[i].error, "out of memory");
        free(easy);
        free(hdrs);
        if (multi) curl_multi_cleanup(multi);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        qh_http_req *r = &reqs[i];
        r->status = 0;
        r->error[0] = '\0';
        r->response = NULL;
        r->response_len = 0;
        CURL *c = easy[i] = curl_easy_init();
        if (!c) { snprintf(r->error, sizeof r->error, "out of memory"); continue; }
        curl_easy_setopt(c, CURLOPT_URL, r->url);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms > 0 ? r->timeout_ms : 10000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
        curl_easy_setopt(c, CURLOPT_PRIVATE, r);
        if (r->method && strcmp(r->method, "POST") == 0) {
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
            hdrs[i] = curl_slist_append(hdrs[i], "Content-Type: application/json");
        }
        if (r->bearer && *r->bearer) {
            char h[600];
            snprintf(h, sizeof h, "Authorization: Bearer %s", r->bearer);
            hdrs[i] = curl_slist_append(hdrs[i], h);
        }
        if (hdrs[i]) curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs[i]);
        curl_multi_add_handle(multi, c);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK) break;
        if (running) curl_multi_poll(multi, NULL, 0, 200, NULL);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE) continue;
            qh_http_req *r;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            struct timespec t1;
            clock_gettime(CLOCK_MONOTONIC, &t1);
            r->elapsed_ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r->status);
            } else {
                snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(msg->data.result));
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (easy[i]) {
            curl_multi_remove_handle(multi, easy[i]);
            curl_easy_cleanup(easy[i]);
        }
        curl_slist_free_all(hdrs[i]);
    }
    free(easy);
    free(hdrs);
    curl_multi_cleanup(multi);
}

void qh_http_free(qh_http_req *r)
{
    free(r->response);
    r->response = NULL;
    r->response_len = 0;
}

const char *qh_http_base_url(const char *flag)
{
    if (flag && *flag) return flag;
    const char *env = getenv("QTR_URL");
    return env && *env ? env : "http://127.0.0.1:8080";
}
