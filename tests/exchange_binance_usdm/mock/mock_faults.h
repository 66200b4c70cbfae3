/* mock_faults — faults armed through /mock/fault for the next N requests on
 * a path (and method). */
#ifndef MOCK_FAULTS_H
#define MOCK_FAULTS_H

#include <stdbool.h>

#define MF_MAX 64

typedef struct mf_fault {
    char path[96];
    char method[8];        /* "" matches any method                          */
    char kind[16];         /* 429 418 500 503 timeout drop partial dup
                              filter4164 filter1111 filter4014 filter2022 ts1021
                              malformed html badstatus
                              tradeslag (userTrades leaves out the newest) */
    int count;             /* requests left                                  */
    bool exec;             /* run the request before answering with the fault */
    int retry_after;       /* seconds, for 429/418 (0: no header)            */
    int delay_ms;          /* timeout: how long the answer is held           */
    int steps, ratio_pct;  /* partial                                        */
    char end_status[20];   /* partial: status once the steps are done        */
    int status;            /* html: the HTTP status                          */
    int hide;              /* exec=1 on POST order: the order then answers
                              -2013 to its next `hide` GET order queries     */
} mf_fault;

typedef struct mf_table {
    mf_fault f[MF_MAX];
    int n;
} mf_table;

void mf_clear(mf_table *t);
int mf_add(mf_table *t, const mf_fault *f);
/* Take one use of the first fault matching method and path; false if none. */
bool mf_take(mf_table *t, const char *method, const char *path, mf_fault *out);

#endif
