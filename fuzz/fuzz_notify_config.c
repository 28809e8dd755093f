/* fuzz_notify_config: the notifier's configuration file (operator input)
 * through notify_config_parse, which also runs every channel's option
 * parser.  Errors are fine; crashes, leaks and UB are not. */
#include <stddef.h>
#include <stdint.h>

#include "notify/notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct notify_config *c = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (notify_config_parse("fuzz.json", (const char *)data, size, &c,
                            &err) == FERR_OK) {
        for (size_t i = 0; i < c->n_chans; i++)
            (void)notify_config_channel(c, c->chans[i].name);
    }
    notify_config_free(c);
    return 0;
}
