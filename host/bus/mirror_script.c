/* mirror_script.c — see mirror_script.h. What each event costs Redis is what
 * bounds the mirroring rate, so per event the script does one XADD (no
 * MAXLEN arguments: XTRIM runs once per stream at the end) and, after the
 * first new event of a stream, no number parsing. */
#include "bus/mirror_script.h"

const char qh_mirror_script[] =
    "local maxlen, host, seqkey = ARGV[1], ARGV[2], KEYS[1]\n"
    "local open, last, added = {}, {}, 0\n"
    "for j = 2, #KEYS do\n"
    "  local stream, s = KEYS[j], ARGV[2 * j - 1]\n"
    "  local o = open[stream]\n"
    "  if not o then\n"
    "    local l = last[stream]\n"
    "    if l == nil then\n"
    "      l = tonumber(redis.call('HGET', seqkey, host .. '@' .. stream) or '0')\n"
    "      last[stream] = l\n"
    "    end\n"
    "    o = tonumber(s) > l\n"
    "    if o then open[stream] = true end\n"
    "  end\n"
    "  if o then\n"
    "    redis.call('XADD', stream, '*', 'h', host, 's', s, 'e', ARGV[2 * j])\n"
    "    last[stream] = s\n"
    "    added = added + 1\n"
    "  end\n"
    "end\n"
    "for stream in pairs(open) do\n"
    "  redis.call('HSET', seqkey, host .. '@' .. stream, last[stream])\n"
    "  redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)\n"
    "end\n"
    "return added\n";

const size_t qh_mirror_script_len = sizeof qh_mirror_script - 1;
