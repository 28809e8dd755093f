/* log: level check first, then one formatted line to stderr. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level level = LL_WARN;

void log_set_level(enum log_level lvl)
{
    level = lvl;
}

enum log_level log_get_level(void)
{
    return level;
}

void log_write(enum log_level lvl, const char *file, int line,
               const char *fmt, ...)
{
    static const char *names[] = { "error", "warning", "info", "debug" };
    char msg[2048];
    const char *base = strrchr(file, '/');
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (level >= LL_DEBUG)
        fprintf(stderr, "ferry: %s: %s (%s:%d)\n", names[lvl], msg,
                base ? base + 1 : file, line);
    else
        fprintf(stderr, "ferry: %s: %s\n", names[lvl], msg);
}
