/* log_text — text from a client (a reason, a user name, a request line)
 * made safe for one log line. */
#ifndef DASH_LOG_TEXT_H
#define DASH_LOG_TEXT_H

#include <stddef.h>

/* text into out (cap >= 1 bytes), cut to fit, with every control character
 * (CR, LF, ESC, … and DEL) as '?': a client cannot start a forged line or
 * send terminal escapes through the journal. Returns out. */
const char *log_text(char *out, size_t cap, const char *text);

#endif
