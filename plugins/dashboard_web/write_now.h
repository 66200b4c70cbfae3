/* write_now — hand bytes to a bufferevent, writing what the socket takes at
 * once when nothing is queued ahead of them. A bufferevent only writes on a
 * later turn of the loop, after asking epoll for EPOLLOUT and then dropping
 * it again: two epoll_ctl calls, a loop turn and the latency of both for
 * every answer and every WebSocket message. Written here, most answers never
 * touch the bufferevent's output at all; the rest is queued there in order. */
#ifndef DASH_WRITE_NOW_H
#define DASH_WRITE_NOW_H

struct bufferevent;
struct evbuffer;

/* Moves all of buf to bev (buf ends empty). Returns 1 if all of it went to
 * the socket now, 0 if some waits in bev's output. A failed write leaves the
 * bytes queued: the bufferevent meets the same error and reports it. */
int write_now(struct bufferevent *bev, struct evbuffer *buf);

#endif
