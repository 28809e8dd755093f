/* log: the daemon/CLI diagnostic log on stderr.  One line per event:
 * a message, then key=value pairs.  Job output never goes here. */
#ifndef FERRY_UTIL_LOG_H
#define FERRY_UTIL_LOG_H

enum log_level { LL_ERR = 0, LL_WARN, LL_INFO, LL_DEBUG };

/** Set the most verbose level that is printed (default LL_WARN). */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

void log_write(enum log_level lvl, const char *file, int line,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_at(lvl, ...)                                                   \
    do {                                                                   \
        if ((lvl) <= log_get_level())                                      \
            log_write((lvl), __FILE__, __LINE__, __VA_ARGS__);             \
    } while (0)
#define log_err(...) log_at(LL_ERR, __VA_ARGS__)
#define log_warn(...) log_at(LL_WARN, __VA_ARGS__)
#define log_info(...) log_at(LL_INFO, __VA_ARGS__)
#define log_debug(...) log_at(LL_DEBUG, __VA_ARGS__)

#endif
