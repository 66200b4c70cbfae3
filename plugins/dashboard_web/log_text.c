/* log_text.c — see log_text.h. */
#include "log_text.h"

const char *log_text(char *out, size_t cap, const char *text)
{
    size_t i = 0;
    for (; text && text[i] && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[i] = '\0';
    return out;
}
