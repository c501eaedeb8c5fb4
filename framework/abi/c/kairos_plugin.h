/*
 * kairos_plugin.h — the C ABI of kairos native plugins, version 1.
 *
 * A C (or C++, Zig, Go via cgo) shared library that exports the functions below
 * can serve the filter and score extension points of a kairos pipeline:
 *
 *     filter:
 *       - native: { library: libmy_plugin.so, plugin: vendor.my-filter }
 *
 * Loading (the host refuses the library, naming it, at the first failing step):
 *   0. if the file carries a manifest (KAIROS_MANIFEST below), its ABI line is
 *      this header's, read from the file before the library is opened;
 *   1. the library opens and exports kairos_c_abi_version();
 *   2. kairos_c_abi_version() returns KAIROS_C_ABI_VERSION (the host's);
 *   3. kairos_plugins() lists the plugin the pipeline names, at its point;
 *   4. kairos_plugin_new() builds it from the entry's args (JSON text), or
 *      returns NULL with a message in `error`.
 *
 * Calls: one per job, with a batch of candidate nodes (`ids`, `n` of them) and
 * the whole node table as flat arrays (resource vectors laid out
 * node * dims + dim). Everything passed in is valid only during the call.
 * A call returns 0 on success; any other value is a failed call, which the
 * host handles by the entry's `on_error` and counts per plugin.
 *
 * Calls may come from several threads at once: a plugin must not keep mutable
 * state without its own locking. A crash in a plugin ends the host process.
 * Libraries are never unloaded.
 */
#ifndef KAIROS_PLUGIN_H
#define KAIROS_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes. The host refuses any other. */
#define KAIROS_C_ABI_VERSION 1u
#define KAIROS_C_ABI_VERSION_TEXT "1"

/*
 * The manifest, embedded in a section of the library file: the host reads it
 * from the file, without opening the library (opening runs its constructors),
 * to find a plugin by name in a plugin directory. List every plugin
 * kairos_plugins() returns, one "plugin POINT NAME\n" line each (POINT: filter
 * or score); the host checks that the two agree. Once per library, at file
 * scope (GCC and Clang):
 *
 *     KAIROS_MANIFEST("plugin filter vendor.c-spare\n"
 *                     "plugin score vendor.c-idle\n");
 *
 * A library without one still loads when named by its path; in a plugin
 * directory it is opened only when no library with a manifest there offers
 * the plugin asked for.
 */
#if defined(__APPLE__)
#define KAIROS_MANIFEST_SECTION "__DATA,__kairos_mf"
#elif defined(_WIN32)
#define KAIROS_MANIFEST_SECTION ".kairosm"
#else
#define KAIROS_MANIFEST_SECTION ".kairos_manifest"
#endif
#define KAIROS_MANIFEST(plugins)                                                                  \
    __attribute__((used, section(KAIROS_MANIFEST_SECTION), visibility("default"))) const char \
        kairos_manifest_v1[] = "kairos-manifest 1\nabi C " KAIROS_C_ABI_VERSION_TEXT "\n" plugins

/* Extension points (kairos_plugin_info.point). */
#define KAIROS_FILTER 1
#define KAIROS_SCORE 2

/* One plugin the library offers. */
typedef struct kairos_plugin_info {
    const char *name;        /* used in pipelines, with a `vendor.` prefix */
    int32_t point;           /* KAIROS_FILTER or KAIROS_SCORE */
    const char *summary;     /* one line for `kairos plugins list` */
    const char *args_schema; /* JSON Schema of the args, as JSON text */
} kairos_plugin_info;

/* The job being placed. */
typedef struct kairos_job {
    uint32_t index;          /* dense index, submission order */
    int32_t priority;        /* higher goes first */
    int64_t release;         /* earliest start, seconds */
    int64_t estimate;        /* estimated run time, seconds */
    int64_t deadline;        /* seconds; meaningful only when has_deadline */
    bool has_deadline;
    bool hard_deadline;
    uint32_t dims;           /* resource dimensions */
    const uint64_t *request; /* dims entries */
} kairos_job;

/* Every node of the cluster, as flat arrays. */
typedef struct kairos_nodes {
    int64_t now;                    /* current time, seconds */
    uint32_t count;                 /* nodes */
    uint32_t dims;                  /* resource dimensions */
    const char *const *names;       /* count entries */
    const uint64_t *capacity;       /* count * dims */
    const uint64_t *allocatable;    /* count * dims: capacity minus reserve */
    const uint64_t *used;           /* count * dims */
    const uint32_t *running;        /* count: jobs running on each node */
    const bool *up;                 /* count */
} kairos_nodes;

/* Returns KAIROS_C_ABI_VERSION. */
uint32_t kairos_c_abi_version(void);

/* The plugins the library offers; writes their number to *count. */
const kairos_plugin_info *kairos_plugins(size_t *count);

/* Builds plugin `name` from `args_json` (the text "null" when absent). On
 * failure returns NULL and writes a NUL-terminated message of at most
 * error_len bytes to `error`. */
void *kairos_plugin_new(const char *name, const char *args_json, char *error, size_t error_len);

/* Filter: `reject` has n entries, all NULL on entry. To reject node ids[i],
 * set reject[i] to a static kebab-case reason code ("too-hot"); leave NULL to
 * let it through. Rejections are transient (waiting may help). */
int32_t kairos_filter(void *plugin, const kairos_job *job, const kairos_nodes *nodes, const uint32_t *ids, size_t n,
                      const char **reject);

/* Score: write a score in 0..=100 (higher is better) for node ids[i] to
 * scores[i]. NaN and out-of-range scores are refused by the host. */
int32_t kairos_score(void *plugin, const kairos_job *job, const kairos_nodes *nodes, const uint32_t *ids, size_t n,
                     double *scores);

#ifdef __cplusplus
}
#endif

#endif /* KAIROS_PLUGIN_H */
