/* An LD_PRELOAD shim for `cargo xtask bench` and `test` (`xtask/src/clock.rs`): moves the
 * wall clock of workerd by KPI_CLOCK_SHIFT_S seconds, so KPI reads are measured and tested on
 * a chosen day (a month's last day, the dearest; a month's middle) whatever today is. It is preloaded into wrangler and everything wrangler
 * starts (its build command too), so it moves nothing in a process not named `workerd`
 * (or listed in KPI_CLOCK_SHIFT_PROCS).
 * Monotonic clocks are untouched. The real clock_gettime is found on first use; a call made while it is being
 * found (dlsym may allocate, and an allocator may ask the time) goes to the system call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef int (*clock_fn)(clockid_t, struct timespec *);
static clock_fn real_clock;
static __thread int resolving;
static long long shift_s;
static int parsed;

/* Whether a process of this name is moved: `workerd`, or one whose name starts with an item
 * of KPI_CLOCK_SHIFT_PROCS (comma-separated; e.g. a test binary that must agree with it). */
static int moved(const char *name) {
    if (strcmp(name, "workerd") == 0) return 1;
    const char *list = getenv("KPI_CLOCK_SHIFT_PROCS");
    while (list && *list) {
        const char *end = strchr(list, ',');
        size_t len = end ? (size_t)(end - list) : strlen(list);
        if (len > 0 && strncmp(name, list, len) == 0) return 1;
        list = end ? end + 1 : NULL;
    }
    return 0;
}

static long long shift(void) {
    if (!__atomic_load_n(&parsed, __ATOMIC_ACQUIRE)) {
        const char *s = moved(program_invocation_short_name) ? getenv("KPI_CLOCK_SHIFT_S") : NULL;
        long long v = 0;
        int neg = 0;
        if (s && *s == '-') {
            neg = 1;
            s++;
        }
        while (s && *s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
        __atomic_store_n(&shift_s, neg ? -v : v, __ATOMIC_RELAXED);
        __atomic_store_n(&parsed, 1, __ATOMIC_RELEASE);
    }
    return __atomic_load_n(&shift_s, __ATOMIC_RELAXED);
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    clock_fn f = __atomic_load_n(&real_clock, __ATOMIC_ACQUIRE);
    if (!f && !resolving) {
        resolving = 1;
        f = (clock_fn)dlsym(RTLD_NEXT, "clock_gettime");
        __atomic_store_n(&real_clock, f, __ATOMIC_RELEASE);
        resolving = 0;
    }
    int r = f ? f(id, ts) : (int)syscall(SYS_clock_gettime, id, ts);
    if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) ts->tv_sec += shift();
    return r;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

time_t time(time_t *t) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
    if (t) *t = ts.tv_sec;
    return ts.tv_sec;
}
