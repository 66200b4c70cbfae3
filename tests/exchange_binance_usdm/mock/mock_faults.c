/* mock_faults.c — see mock_faults.h. */
#include "mock_faults.h"

#include <string.h>

void mf_clear(mf_table *t) { t->n = 0; }

int mf_add(mf_table *t, const mf_fault *f)
{
    if (t->n >= MF_MAX || f->count <= 0) return -1;
    t->f[t->n++] = *f;
    return 0;
}

bool mf_take(mf_table *t, const char *method, const char *path, mf_fault *out)
{
    for (int i = 0; i < t->n; i++) {
        mf_fault *f = &t->f[i];
        if (strcmp(f->path, path) != 0 || (f->method[0] && strcmp(f->method, method) != 0)) continue;
        *out = *f;
        if (--f->count <= 0) {
            memmove(&t->f[i], &t->f[i + 1], (size_t)(t->n - i - 1) * sizeof *f);
            t->n--;
        }
        return true;
    }
    return false;
}
