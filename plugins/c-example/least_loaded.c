/*
 * An example kairos native plugin in C (see framework/abi/c/kairos_plugin.h).
 *
 *   vendor.c-spare    filter: rejects a node unless, after placing the job,
 *                     at least `spare` units of every requested resource stay
 *                     free (args: { "spare": N }, default 0) — code `no-spare`
 *   vendor.c-idle     score: nodes running fewer jobs score higher,
 *                     100 / (1 + running)
 *
 * Build: cc -shared -fPIC -I framework/abi/c -o libleast_loaded.so least_loaded.c
 * (the host's tests build it themselves). Compiled with
 * -DKAIROS_FIXTURE_BAD_VERSION it claims another ABI version, which the host
 * must refuse; with -DKAIROS_FIXTURE_BAD_CODE its filter rejects with a code
 * the host must refuse ("no spare!"); with -DKAIROS_FIXTURE_NO_MANIFEST it
 * carries no embedded manifest, as libraries built before it existed (with
 * -DKAIROS_FIXTURE_WRONG_MANIFEST, one that disagrees with its plugin list); with
 * -DKAIROS_FIXTURE_CONSTRUCTOR_LOG='"PATH"' a constructor appends a line to
 * PATH each time the library is loaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kairos_plugin.h"

#ifdef KAIROS_FIXTURE_BAD_VERSION
uint32_t kairos_c_abi_version(void) { return 99; }
#else
uint32_t kairos_c_abi_version(void) { return KAIROS_C_ABI_VERSION; }
#endif

#ifdef KAIROS_FIXTURE_BAD_CODE
#define NO_SPARE "no spare!"
#else
#define NO_SPARE "no-spare"
#endif

#if defined(KAIROS_FIXTURE_WRONG_MANIFEST)
KAIROS_MANIFEST("plugin filter vendor.c-other\n");
#elif !defined(KAIROS_FIXTURE_NO_MANIFEST)
KAIROS_MANIFEST("plugin filter vendor.c-spare\n"
                "plugin score vendor.c-idle\n");
#endif

#ifdef KAIROS_FIXTURE_CONSTRUCTOR_LOG
__attribute__((constructor)) static void log_load(void) {
    FILE *log = fopen(KAIROS_FIXTURE_CONSTRUCTOR_LOG, "a");
    if (log != NULL) {
        fputs("loaded\n", log);
        fclose(log);
    }
}
#endif

static const kairos_plugin_info PLUGINS[] = {
    {"vendor.c-spare", KAIROS_FILTER, "rejects nodes that would keep less than `spare` units free",
     "{\"type\":\"object\",\"properties\":{\"spare\":{\"type\":\"integer\",\"minimum\":0}},\"additionalProperties\":false}"},
    {"vendor.c-idle", KAIROS_SCORE, "nodes running fewer jobs score higher",
     "{\"type\":\"object\",\"additionalProperties\":false}"},
};

const kairos_plugin_info *kairos_plugins(size_t *count) {
    *count = sizeof PLUGINS / sizeof PLUGINS[0];
    return PLUGINS;
}

typedef struct plugin {
    int kind;        /* KAIROS_FILTER or KAIROS_SCORE */
    uint64_t spare;  /* filter only */
} plugin;

/* A deliberately small args reader: `null`, `{}` or `{"spare": N}`. */
void *kairos_plugin_new(const char *name, const char *args, char *error, size_t error_len) {
    plugin *p = calloc(1, sizeof *p);
    if (p == NULL) {
        snprintf(error, error_len, "out of memory");
        return NULL;
    }
    if (strcmp(name, "vendor.c-spare") == 0) {
        p->kind = KAIROS_FILTER;
        const char *s = strstr(args, "\"spare\"");
        if (s != NULL) {
            const char *colon = strchr(s, ':');
            char *end = NULL;
            long long v = colon ? strtoll(colon + 1, &end, 10) : -1;
            if (colon == NULL || end == colon + 1 || v < 0) {
                snprintf(error, error_len, "`spare` must be a whole number >= 0");
                free(p);
                return NULL;
            }
            p->spare = (uint64_t)v;
        } else if (strcmp(args, "null") != 0 && strcmp(args, "{}") != 0) {
            snprintf(error, error_len, "unknown args %s; expected { \"spare\": N }", args);
            free(p);
            return NULL;
        }
    } else if (strcmp(name, "vendor.c-idle") == 0) {
        p->kind = KAIROS_SCORE;
        if (strcmp(args, "null") != 0 && strcmp(args, "{}") != 0) {
            snprintf(error, error_len, "vendor.c-idle takes no args");
            free(p);
            return NULL;
        }
    } else {
        snprintf(error, error_len, "no plugin `%s` here", name);
        free(p);
        return NULL;
    }
    return p;
}

int32_t kairos_filter(void *self, const kairos_job *job, const kairos_nodes *nodes, const uint32_t *ids, size_t n,
                      const char **reject) {
    const plugin *p = self;
    if (p->kind != KAIROS_FILTER) return 1;
    for (size_t i = 0; i < n; i++) {
        size_t base = (size_t)ids[i] * nodes->dims;
        for (uint32_t d = 0; d < job->dims && d < nodes->dims; d++) {
            uint64_t request = job->request[d];
            if (request == 0) continue;
            uint64_t free_now = nodes->allocatable[base + d] - nodes->used[base + d];
            if (free_now < request || free_now - request < p->spare) {
                reject[i] = NO_SPARE;
                break;
            }
        }
    }
    return 0;
}

int32_t kairos_score(void *self, const kairos_job *job, const kairos_nodes *nodes, const uint32_t *ids, size_t n,
                     double *scores) {
    const plugin *p = self;
    (void)job;
    if (p->kind != KAIROS_SCORE) return 1;
    for (size_t i = 0; i < n; i++) {
        scores[i] = 100.0 / (1.0 + (double)nodes->running[ids[i]]);
    }
    return 0;
}
