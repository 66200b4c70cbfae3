/* write_now.c — see write_now.h. */
#include "write_now.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>

int write_now(struct bufferevent *bev, struct evbuffer *buf)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_get_length(out) == 0 && evbuffer_get_length(buf) > 0)
        evbuffer_write(buf, bufferevent_getfd(bev));
    if (evbuffer_get_length(buf) == 0) return 1;
    evbuffer_add_buffer(out, buf);
    return 0;
}
