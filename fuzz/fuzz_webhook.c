/* fuzz_webhook: byte 0 picks the source (bits 0-1), the event header
 * (bits 2-4) and the signature (bits 5-6: none, the right one, or the
 * body's first line); the rest is the body.  Parsing and verifying must
 * never crash; the right signature must verify and no other may; a
 * successful parse must give well-formed events whose payload dumps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "trigger/webhook.h"
#include "util/crypto.h"

static const char key[] = "fuzz-webhook-key-0123456789abcdef";

static const char *const events[4][8] = {
    {"push", "pull_request", "ping", "issues", NULL, "", "Push Hook",
     "pull_request_sync"},
    {"push", "pull_request", "pull_request_sync", "ping", "create", NULL,
     "release", "push"},
    {"Push Hook", "Tag Push Hook", "Merge Request Hook", "Note Hook", NULL,
     "push", "", "Pipeline Hook"},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
};

static void right_signature(enum webhook_source src, const char *body,
                            size_t len, char out[80])
{
    unsigned char mac[32];
    size_t p = 0;

    if (src == WH_GITLAB) {
        snprintf(out, 80, "%s", key);
        return;
    }
    if (src != WH_GITEA) {
        memcpy(out, "sha256=", 7);
        p = 7;
    }
    crypto_hmac_sha256(key, strlen(key), body, len, mac);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + p + 2 * i, 3, "%02x", mac[i]);
}

static bool is_lower_oid(const char *s)
{
    size_t n = strlen(s);

    return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n;
}

static void check_events(enum webhook_source src, struct webhook_event *v,
                         size_t n)
{
    if (n == 0 || (src != WH_GIT && n != 1))
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        struct webhook_event *e = &v[i];
        char *dump;

        if (!e->event || !e->repo || !e->repo_full || !e->ref || !e->actor ||
            !json_is_object(e->payload))
            __builtin_trap();
        if ((e->sha[0] && !is_lower_oid(e->sha)) || !is_lower_oid(e->before))
            __builtin_trap();
        if (e->deleted && e->sha[0])
            __builtin_trap();
        if (strcmp(e->event, "push") == 0 &&
            (!webhook_ref_valid(e->ref, strlen(e->ref)) ||
             (!e->deleted && !e->sha[0])))
            __builtin_trap();
        if (strcmp(e->event, "pull_request") == 0 &&
            (strncmp(e->ref, "refs/heads/", 11) != 0 || !e->sha[0] ||
             !webhook_ref_valid(e->ref, strlen(e->ref))))
            __builtin_trap();
        if (strcmp(e->event, "ping") == 0 && (e->sha[0] || e->ref[0]))
            __builtin_trap();
        dump = json_dumps(e->payload, JSON_COMPACT);
        if (!dump)
            __builtin_trap(); /* the server stores it as text */
        free(dump);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum webhook_source src;
    const char *event;
    const char *body;
    size_t len;
    struct webhook_event *v = NULL;
    size_t n = 0;
    struct ferr err;
    enum ferr_code rc;
    char right[80];
    char line[128];
    const char *sig = NULL;
    int mode;

    if (size < 1)
        return 0;
    src = (enum webhook_source)(data[0] & 3);
    event = events[src][(data[0] >> 2) & 7];
    mode = (data[0] >> 5) & 3;
    body = (const char *)data + 1;
    len = size - 1;

    ferr_clear(&err);
    rc = webhook_parse(src, event, body, len, &v, &n, &err);
    if (rc) {
        if (err.code != rc || !err.msg[0] || v || n)
            __builtin_trap();
    } else {
        check_events(src, v, n);
        webhook_events_free(v, n);
    }

    right_signature(src, body, len, right);
    if (mode == 1) {
        sig = right;
    } else if (mode >= 2) {
        const char *nl = memchr(body, '\n', len);
        size_t l = nl ? (size_t)(nl - body) : len;

        if (l >= sizeof(line))
            l = sizeof(line) - 1;
        memcpy(line, body, l);
        line[l] = '\0';
        sig = line;
    }
    ferr_clear(&err);
    rc = webhook_verify(src, sig, key, strlen(key), body, len, &err);
    if (mode == 1 && rc)
        __builtin_trap();
    if (!rc) {
        const char *got = sig ? sig : "";

        if (src == WH_GITEA && strncmp(got, "sha256=", 7) == 0)
            got += 7; /* Gitea's header may carry GitHub's prefix */
        if (strcasecmp(got, right) != 0)
            __builtin_trap(); /* only the right signature may pass */
    }
    if (rc && (rc != FERR_INVALID || !err.msg[0]))
        __builtin_trap();
    return 0;
}
