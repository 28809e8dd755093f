/* webhook: signature checks and payload normalisation for the /hooks routes.
 * Input is hostile until verified and malformed after: every field is
 * type-checked, every ref and commit id validated, nothing asserted.
 * It does not look up repositories, record deliveries or decide which
 * workflows run: the server and the engine do. */
#include "trigger/webhook.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/crypto.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

static const char zeros[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

const char *webhook_source_name(enum webhook_source s)
{
    switch (s) {
    case WH_GITHUB: return "github";
    case WH_GITEA: return "gitea";
    case WH_GITLAB: return "gitlab";
    case WH_GIT: return "git";
    }
    return "unknown";
}

bool webhook_source_parse(const char *name, enum webhook_source *out)
{
    static const enum webhook_source all[] = {WH_GITHUB, WH_GITEA, WH_GITLAB,
                                              WH_GIT};

    for (size_t i = 0; name && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(name, webhook_source_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

/* ---------- small helpers ---------- */

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
            return false;
    return true;
}

/* A commit id: 40 (SHA-1) or 64 (SHA-256) hex digits. */
static bool is_oid(const char *s, size_t n)
{
    return (n == 40 || n == 64) && is_hex(s, n);
}

static bool is_zero_oid(const char *s)
{
    size_t n = strlen(s);

    return is_oid(s, n) && strspn(s, "0") == n;
}

/* Copy a valid oid, lowercased, into out[65]. */
static void oid_copy(char *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = (char)((s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 'a' : s[i]);
    out[n] = '\0';
}

static void zero_oid(char *out, size_t n)
{
    memcpy(out, zeros, n);
    out[n] = '\0';
}

bool webhook_ref_valid(const char *ref, size_t len)
{
    const unsigned char *p = (const unsigned char *)ref;
    size_t comp = 5; /* start of the current component */

    if (!ref || len <= 5 || len > LIM_REF_BYTES || memcmp(ref, "refs/", 5) != 0)
        return false;
    for (size_t i = 5; i < len;) {
        unsigned char c = p[i];
        size_t l;

        if (c < 0x20 || c == 0x7f || strchr(" ~^:?*[\\", c))
            return false;
        if (c == '.' && (i == comp || (i + 1 < len && p[i + 1] == '.')))
            return false; /* component starts with '.', or ".." */
        if (c == '@' && i + 1 < len && p[i + 1] == '{')
            return false;
        if (c == '/') {
            if (i == comp)
                return false; /* "//" */
            if (i - comp >= 5 && memcmp(ref + i - 5, ".lock", 5) == 0)
                return false;
            comp = i + 1;
        }
        l = span_utf8_len(p + i, len - i);
        if (l == 0)
            return false;
        i += l;
    }
    if (comp == len || ref[len - 1] == '.')
        return false; /* ends with '/' or '.' */
    if (len - comp >= 5 && memcmp(ref + len - 5, ".lock", 5) == 0)
        return false;
    return true;
}

bool webhook_branch_valid(const char *name, size_t len)
{
    char buf[LIM_REF_BYTES + 1];

    if (!name || len == 0 || len > LIM_REF_BYTES - 11)
        return false;
    memcpy(buf, "refs/heads/", 11);
    memcpy(buf + 11, name, len);
    return webhook_ref_valid(buf, len + 11);
}

/* ---------- signatures ---------- */

enum ferr_code webhook_verify(enum webhook_source src, const char *signature,
                              const void *key, size_t klen, const char *body,
                              size_t len, struct ferr *err)
{
    unsigned char want[32];
    unsigned char got[32];
    const char *hex = signature;
    size_t slen;
    bool ok;

    if (!signature || !*signature)
        return ferr_set(err, FERR_INVALID, NULL, "missing signature");
    if (!key || klen == 0)
        return ferr_set(err, FERR_INVALID, NULL, "bad signature");
    slen = strlen(signature);
    if (src == WH_GITLAB) {
        /* hash both sides so neither the content nor the length of the
         * key shows in the comparison's timing */
        crypto_hmac_sha256("ferry-gitlab-token", 18, signature, slen, got);
        crypto_hmac_sha256("ferry-gitlab-token", 18, key, klen, want);
        ok = crypto_equal(got, want, sizeof(got));
        ok &= slen == klen;
        if (!ok)
            return ferr_set(err, FERR_INVALID, NULL, "bad signature");
        return FERR_OK;
    }
    if (strncmp(hex, "sha256=", 7) == 0)
        hex += 7;
    else if (src != WH_GITEA)
        return ferr_set(err, FERR_INVALID, NULL, "bad signature");
    if (!crypto_hex_decode(hex, strlen(hex), got, sizeof(got)))
        return ferr_set(err, FERR_INVALID, NULL, "bad signature");
    crypto_hmac_sha256(key, klen, body, len, want);
    if (!crypto_equal(got, want, sizeof(got)))
        return ferr_set(err, FERR_INVALID, NULL, "bad signature");
    return FERR_OK;
}

/* ---------- JSON access ---------- */

/* The value at a dotted @path ("pull_request.head.sha"), or NULL. */
static json_t *jget(json_t *o, const char *path)
{
    char key[64];
    const char *dot;

    while (o && (dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path);

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        path = dot + 1;
    }
    return o ? json_object_get(o, path) : NULL;
}

static const char *jstr(json_t *o, const char *path)
{
    json_t *v = jget(o, path);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static const char *jstr_or(json_t *o, const char *path, const char *dflt)
{
    const char *s = jstr(o, path);

    return s ? s : dflt;
}

/* A required string field of a @what payload. */
static enum ferr_code need_str(json_t *root, const char *what, const char *path,
                               const char **out, size_t *out_len,
                               struct ferr *err)
{
    json_t *v = jget(root, path);

    *out = NULL;
    if (!v || json_is_null(v))
        return ferr_set(err, FERR_INVALID, NULL, "%s payload without '%s'",
                        what, path);
    if (!json_is_string(v))
        return ferr_set(err, FERR_INVALID, NULL,
                        "%s payload field '%s' must be a string", what, path);
    *out = json_string_value(v);
    if (out_len)
        *out_len = json_string_length(v);
    return FERR_OK;
}

/* A required commit id into out[65]. */
static enum ferr_code need_oid(json_t *root, const char *what, const char *path,
                               char *out, struct ferr *err)
{
    const char *s;
    size_t n;
    char q[72];
    enum ferr_code rc = need_str(root, what, path, &s, &n, err);

    if (rc)
        return rc;
    if (!is_oid(s, n))
        return ferr_set(err, FERR_INVALID, NULL,
                        "%s payload field '%s' is not a commit id: '%s'", what,
                        path, span_quote(s, n, q));
    oid_copy(out, s, n);
    return FERR_OK;
}

/* An optional commit id: copied when valid, else zeros of @dflt_len. */
static void opt_oid(json_t *root, const char *path, char *out, size_t dflt_len)
{
    json_t *v = jget(root, path);

    if (json_is_string(v) &&
        is_oid(json_string_value(v), json_string_length(v)))
        oid_copy(out, json_string_value(v), json_string_length(v));
    else
        zero_oid(out, dflt_len);
}

static enum ferr_code need_ref(json_t *root, const char *what, const char *path,
                               const char **out, struct ferr *err)
{
    size_t n;
    char q[72];
    enum ferr_code rc = need_str(root, what, path, out, &n, err);

    if (rc)
        return rc;
    if (!webhook_ref_valid(*out, n))
        return ferr_set(err, FERR_INVALID, NULL,
                        "%s payload has an invalid ref '%s'", what,
                        span_quote(*out, n, q));
    return FERR_OK;
}

static enum ferr_code need_branch(json_t *root, const char *what,
                                  const char *path, const char **out,
                                  struct ferr *err)
{
    size_t n;
    char q[72];
    enum ferr_code rc = need_str(root, what, path, out, &n, err);

    if (rc)
        return rc;
    if (!webhook_branch_valid(*out, n))
        return ferr_set(err, FERR_INVALID, NULL,
                        "%s payload field '%s' is not a valid branch: '%s'",
                        what, path, span_quote(*out, n, q));
    return FERR_OK;
}

static void set_str(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

static void set_copy(json_t *o, const char *key, json_t *v)
{
    if (v)
        json_object_set_new(o, key, json_deep_copy(v));
}

/* ---------- events ---------- */

static void ev_init(struct webhook_event *e, const char *event)
{
    memset(e, 0, sizeof(*e));
    e->event = xstrdup(event);
    e->repo = xstrdup("");
    e->repo_full = xstrdup("");
    e->ref = xstrdup("");
    e->actor = xstrdup("");
    zero_oid(e->before, 40);
}

static void ev_release(struct webhook_event *e)
{
    free(e->event);
    free(e->repo);
    free(e->repo_full);
    free(e->ref);
    free(e->actor);
    json_decref(e->payload);
    memset(e, 0, sizeof(*e));
}

static void ev_set(char **field, const char *s)
{
    free(*field);
    *field = xstrdup(s ? s : "");
}

void webhook_events_free(struct webhook_event *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        ev_release(&v[i]);
    free(v);
}

/* ---------- loading ---------- */

static int unhex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (unsigned char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* GitHub and Gitea can send application/x-www-form-urlencoded bodies:
 * "payload=" then the percent-encoded JSON. */
static enum ferr_code form_decode(const char *body, size_t len, struct buf *out,
                                  struct ferr *err)
{
    for (size_t i = 8; i < len; i++) {
        char c = body[i];

        if (c == '&')
            break; /* other form fields are not ours */
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < len ? unhex((unsigned char)body[i + 1]) : -1;
            int lo = i + 2 < len ? unhex((unsigned char)body[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return ferr_set(err, FERR_PARSE, NULL,
                                "malformed form-encoded payload at byte %zu",
                                i + 1);
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (buf_addch(out, c))
            return ferr_set(err, FERR_LIMIT, NULL, "payload is too large");
    }
    return FERR_OK;
}

static enum ferr_code load_json(const char *body, size_t len, json_t **out,
                                struct ferr *err)
{
    json_error_t jerr;
    struct buf form;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    buf_init(&form, LIM_HOOK_BODY);
    if (len >= 8 && memcmp(body, "payload=", 8) == 0) {
        rc = form_decode(body, len, &form, err);
        if (rc)
            goto done;
        body = buf_cstr(&form);
        len = form.len;
    }
    *out = json_loadb(len ? body : "", len, JSON_DECODE_ANY, &jerr);
    if (!*out) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "malformed JSON at line %d col %d: %s", jerr.line,
                      jerr.column, jerr.text);
        goto done;
    }
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = ferr_set(err, FERR_PARSE, NULL, "payload must be a JSON object");
    }
done:
    buf_release(&form);
    return rc;
}

static enum ferr_code unhandled(const char *event, struct ferr *err)
{
    char q[72];

    return ferr_set(err, FERR_UNSUPPORTED, NULL, "event '%s' is not handled",
                    span_quote(event, strlen(event), q));
}

/* ---------- GitHub and Gitea ---------- */

static void hub_common(struct webhook_event *e, json_t *root)
{
    const char *actor = jstr(root, "sender.login");

    if (!actor)
        actor = jstr(root, "pusher.name");
    if (!actor)
        actor = jstr(root, "sender.username");
    ev_set(&e->repo, jstr(root, "repository.name"));
    ev_set(&e->repo_full, jstr(root, "repository.full_name"));
    ev_set(&e->actor, actor);
}

/* Gitea's push payload lacks some of GitHub's fields. */
static void gitea_complete_push(json_t *root, const char *after)
{
    json_t *pusher = json_object_get(root, "pusher");
    json_t *commits = json_object_get(root, "commits");
    json_t *head = json_object_get(root, "head_commit");
    const char *before = jstr(root, "before");

    if (json_is_object(pusher) &&
        !json_is_string(json_object_get(pusher, "name"))) {
        const char *n = jstr(pusher, "login");

        set_str(pusher, "name", n ? n : jstr_or(pusher, "username", ""));
    }
    if (!json_is_boolean(json_object_get(root, "created")))
        json_object_set_new(root, "created",
                            json_boolean(before && is_zero_oid(before)));
    if (!json_is_boolean(json_object_get(root, "deleted")))
        json_object_set_new(root, "deleted", json_boolean(is_zero_oid(after)));
    if (!json_is_boolean(json_object_get(root, "forced")))
        json_object_set_new(root, "forced", json_false());
    if (!json_is_object(head) && json_is_array(commits)) {
        size_t i;
        json_t *c;

        json_array_foreach (commits, i, c) {
            const char *id = jstr(c, "id");

            if (id && strcasecmp(id, after) == 0) {
                json_object_set(root, "head_commit", c);
                break;
            }
        }
    }
}

static enum ferr_code hub_push(enum webhook_source src, json_t *root,
                               struct webhook_event *e, struct ferr *err)
{
    const char *ref;
    char after[65];
    enum ferr_code rc;

    ev_init(e, "push");
    rc = need_ref(root, "push", "ref", &ref, err);
    if (!rc)
        rc = need_oid(root, "push", "after", after, err);
    if (rc)
        return rc;
    opt_oid(root, "before", e->before, strlen(after));
    ev_set(&e->ref, ref);
    e->deleted =
        is_zero_oid(after) || json_is_true(json_object_get(root, "deleted"));
    if (!e->deleted)
        memcpy(e->sha, after, sizeof(after));
    if (src == WH_GITEA)
        gitea_complete_push(root, after);
    hub_common(e, root);
    return FERR_OK;
}

static enum ferr_code hub_pull_request(enum webhook_source src, json_t *root,
                                       struct webhook_event *e,
                                       struct ferr *err)
{
    const char *action;
    const char *base;
    const char *head;
    json_t *num = json_object_get(root, "number");
    enum ferr_code rc;

    ev_init(e, "pull_request");
    rc = need_str(root, "pull_request", "action", &action, NULL, err);
    if (rc)
        return rc;
    if (!json_is_integer(num))
        num = jget(root, "pull_request.number");
    if (!json_is_integer(num))
        return ferr_set(err, FERR_INVALID, NULL,
                        "pull_request payload without 'number'");
    if (!json_is_object(json_object_get(root, "pull_request")))
        return ferr_set(err, FERR_INVALID, NULL,
                        "pull_request payload without 'pull_request'");
    rc = need_oid(root, "pull_request", "pull_request.head.sha", e->sha, err);
    if (!rc)
        rc = need_branch(root, "pull_request", "pull_request.head.ref", &head,
                         err);
    if (!rc)
        rc = need_branch(root, "pull_request", "pull_request.base.ref", &base,
                         err);
    if (rc)
        return rc;
    free(e->ref);
    e->ref = xasprintf("refs/heads/%s", base);
    opt_oid(root, "before", e->before, strlen(e->sha));
    if (!json_is_integer(json_object_get(root, "number")))
        json_object_set(root, "number", num);
    if (src == WH_GITEA && strcmp(action, "synchronized") == 0)
        json_object_set_new(root, "action", json_string("synchronize"));
    hub_common(e, root);
    return FERR_OK;
}

static enum ferr_code parse_hub(enum webhook_source src, const char *event,
                                const char *body, size_t len,
                                struct webhook_event *e, struct ferr *err)
{
    json_t *root;
    enum ferr_code rc;
    bool push = strcmp(event, "push") == 0;
    bool pr = strcmp(event, "pull_request") == 0 ||
              (src == WH_GITEA && strcmp(event, "pull_request_sync") == 0);
    bool ping = strcmp(event, "ping") == 0;

    if (!push && !pr && !ping)
        return unhandled(event, err);
    rc = load_json(body, len, &root, err);
    if (rc)
        return rc;
    if (push) {
        rc = hub_push(src, root, e, err);
    } else if (pr) {
        rc = hub_pull_request(src, root, e, err);
    } else {
        ev_init(e, "ping");
        hub_common(e, root);
    }
    e->payload = root; /* released with e on error */
    return rc;
}

/* ---------- GitLab ---------- */

/* The last component of "group/sub/name". */
static const char *last_component(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;

    return slash ? slash + 1 : path;
}

/* A GitLab project object in GitHub's repository shape. */
static json_t *gl_project(json_t *p)
{
    json_t *r = json_object();
    const char *full = jstr(p, "path_with_namespace");
    const char *ns = jstr(p, "namespace");
    json_t *vis = json_object_get(p, "visibility_level");
    char *owner = NULL;

    if (full && strchr(full, '/'))
        owner = xstrndup(full, (size_t)(strrchr(full, '/') - full));
    set_str(r, "name", full ? last_component(full) : jstr(p, "name"));
    set_str(r, "full_name", full);
    json_object_set_new(r, "owner",
                        json_pack("{s:s, s:s}", "login", owner ? owner : "",
                                  "name", ns ? ns : (owner ? owner : "")));
    set_str(r, "clone_url", jstr(p, "git_http_url"));
    set_str(r, "ssh_url", jstr(p, "git_ssh_url"));
    set_str(r, "html_url", jstr(p, "web_url"));
    set_str(r, "description", jstr(p, "description"));
    set_str(r, "default_branch", jstr(p, "default_branch"));
    if (json_is_integer(vis)) /* 0 private, 10 internal, 20 public */
        json_object_set_new(r, "private",
                            json_boolean(json_integer_value(vis) < 20));
    set_copy(r, "id", json_object_get(p, "id"));
    free(owner);
    return r;
}

static json_t *gl_repository(json_t *root)
{
    json_t *p = json_object_get(root, "project");
    json_t *r;

    if (json_is_object(p))
        return gl_project(p);
    /* very old hooks carry only "repository" */
    p = json_object_get(root, "repository");
    r = json_object();
    set_str(r, "name", jstr(p, "name"));
    set_str(r, "clone_url", jstr(p, "git_http_url"));
    set_str(r, "html_url", jstr(p, "homepage"));
    return r;
}

static json_t *gl_commit(json_t *c)
{
    json_t *o = json_object();
    json_t *a = json_object_get(c, "author");
    static const char *const lists[] = {"added", "modified", "removed"};

    set_str(o, "id", jstr(c, "id"));
    set_str(o, "tree_id", jstr(c, "tree_id"));
    set_str(o, "message", jstr(c, "message"));
    set_str(o, "timestamp", jstr(c, "timestamp"));
    set_str(o, "url", jstr(c, "url"));
    if (json_is_object(a)) {
        json_t *author = json_object();

        set_str(author, "name", jstr(a, "name"));
        set_str(author, "email", jstr(a, "email"));
        json_object_set(o, "committer", author);
        json_object_set_new(o, "author", author);
    }
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        json_t *l = json_object_get(c, lists[i]);

        if (json_is_array(l))
            set_copy(o, lists[i], l);
    }
    json_object_set_new(o, "distinct", json_true());
    return o;
}

static enum ferr_code gl_push(json_t *root, struct webhook_event *e,
                              json_t **out_payload, struct ferr *err)
{
    const char *ref;
    const char *user = jstr_or(root, "user_username", "");
    char after[65];
    char checkout[65];
    json_t *p;
    json_t *commits = json_array();
    json_t *in = json_object_get(root, "commits");
    json_t *head = json_null();
    enum ferr_code rc;

    *out_payload = NULL;
    ev_init(e, "push");
    rc = need_ref(root, "push", "ref", &ref, err);
    if (!rc)
        rc = need_oid(root, "push", "after", after, err);
    if (rc) {
        json_decref(commits);
        return rc;
    }
    opt_oid(root, "before", e->before, strlen(after));
    opt_oid(root, "checkout_sha", checkout, strlen(after));
    e->deleted = is_zero_oid(after);
    if (!e->deleted)
        memcpy(e->sha, is_zero_oid(checkout) ? after : checkout, 65);
    ev_set(&e->ref, ref);
    ev_set(&e->actor, user);

    /* GitLab lists the newest commit first; GitHub the oldest */
    if (json_is_array(in)) {
        for (size_t i = json_array_size(in); i-- > 0;) {
            json_t *c = json_array_get(in, i);

            if (!json_is_object(c))
                continue;
            json_array_append_new(commits, gl_commit(c));
            if (json_is_null(head) && e->sha[0] && jstr(c, "id") &&
                strcasecmp(jstr(c, "id"), e->sha) == 0)
                head = json_array_get(commits, json_array_size(commits) - 1);
        }
    }
    p = json_object();
    set_str(p, "ref", ref);
    set_str(p, "before", e->before);
    set_str(p, "after", e->deleted ? after : e->sha);
    json_object_set_new(p, "created", json_boolean(is_zero_oid(e->before)));
    json_object_set_new(p, "deleted", json_boolean(e->deleted));
    json_object_set_new(p, "forced", json_false());
    json_object_set_new(p, "base_ref", json_null());
    set_str(p, "compare", "");
    json_object_set_new(p, "commits", commits);
    json_object_set(p, "head_commit", head);
    json_object_set_new(p, "repository", gl_repository(root));
    json_object_set_new(p, "pusher",
                        json_pack("{s:s, s:s}", "name", user, "email",
                                  jstr_or(root, "user_email", "")));
    json_object_set_new(p, "sender",
                        json_pack("{s:s, s:s}", "login", user, "name",
                                  jstr_or(root, "user_name", "")));
    if (json_is_string(json_object_get(root, "message")))
        set_str(p, "message", jstr(root, "message")); /* annotated tag */
    *out_payload = p;
    return FERR_OK;
}

/* GitLab's merge request action as GitHub's pull_request action, or
 * NULL when it has none. */
static const char *gl_action(const char *action, bool new_commits)
{
    if (strcmp(action, "open") == 0)
        return "opened";
    if (strcmp(action, "reopen") == 0)
        return "reopened";
    if (strcmp(action, "update") == 0)
        return new_commits ? "synchronize" : "edited";
    if (strcmp(action, "close") == 0 || strcmp(action, "merge") == 0)
        return "closed";
    return NULL;
}

static enum ferr_code gl_merge_request(json_t *root, struct webhook_event *e,
                                       json_t **out_payload, struct ferr *err)
{
    json_t *attrs = json_object_get(root, "object_attributes");
    json_t *iid;
    const char *action;
    const char *gh_action;
    const char *source;
    const char *target;
    const char *user = jstr(root, "user.username");
    const char *state;
    char q[72];
    bool merged;
    json_t *pr;
    json_t *p;
    json_t *repo;
    enum ferr_code rc;

    *out_payload = NULL;
    ev_init(e, "pull_request");
    if (!json_is_object(attrs))
        return ferr_set(err, FERR_INVALID, NULL,
                        "merge request payload without 'object_attributes'");
    iid = json_object_get(attrs, "iid");
    if (!json_is_integer(iid))
        return ferr_set(err, FERR_INVALID, NULL,
                        "merge request payload without "
                        "'object_attributes.iid'");
    rc = need_str(root, "merge request", "object_attributes.action", &action,
                  NULL, err);
    if (!rc)
        rc = need_branch(root, "merge request",
                         "object_attributes.source_branch", &source, err);
    if (!rc)
        rc = need_branch(root, "merge request",
                         "object_attributes.target_branch", &target, err);
    if (!rc)
        rc = need_oid(root, "merge request", "object_attributes.last_commit.id",
                      e->sha, err);
    if (rc)
        return rc;
    opt_oid(root, "object_attributes.oldrev", e->before, strlen(e->sha));
    gh_action = gl_action(action, !is_zero_oid(e->before));
    if (!gh_action)
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "merge request action '%s' is not handled",
                        span_quote(action, strlen(action), q));
    merged = strcmp(action, "merge") == 0;
    state = jstr_or(attrs, "state", "");
    free(e->ref);
    e->ref = xasprintf("refs/heads/%s", target);
    ev_set(&e->actor, user);

    repo = gl_repository(root);
    pr = json_object();
    json_object_set(pr, "number", iid);
    set_copy(pr, "id", json_object_get(attrs, "id"));
    set_str(pr, "title", jstr_or(attrs, "title", ""));
    set_str(pr, "body", jstr_or(attrs, "description", ""));
    set_str(pr, "state",
            strcmp(state, "opened") == 0 || strcmp(action, "open") == 0 ||
                    strcmp(action, "reopen") == 0 ||
                    strcmp(action, "update") == 0
                ? "open"
                : "closed");
    json_object_set_new(pr, "merged", json_boolean(merged));
    json_object_set_new(
        pr, "draft",
        json_boolean(json_is_true(json_object_get(attrs, "draft")) ||
                     json_is_true(json_object_get(attrs, "work_in_progress"))));
    set_str(pr, "html_url", jstr(attrs, "url"));
    json_object_set_new(pr, "head",
                        json_pack("{s:s, s:s, s:s}", "ref", source, "sha",
                                  e->sha, "label", source));
    if (json_is_object(json_object_get(attrs, "source")))
        json_object_set_new(json_object_get(pr, "head"), "repo",
                            gl_project(json_object_get(attrs, "source")));
    json_object_set_new(pr, "base",
                        json_pack("{s:s, s:s, s:O}", "ref", target, "label",
                                  target, "repo", repo));
    json_object_set_new(
        pr, "user",
        json_pack("{s:s}", "login", jstr_or(root, "user.username", "")));

    p = json_object();
    set_str(p, "action", gh_action);
    json_object_set(p, "number", iid);
    json_object_set_new(p, "pull_request", pr);
    json_object_set_new(p, "repository", repo);
    json_object_set_new(p, "sender",
                        json_pack("{s:s, s:s}", "login",
                                  jstr_or(root, "user.username", ""), "name",
                                  jstr_or(root, "user.name", "")));
    if (strcmp(gh_action, "synchronize") == 0) {
        set_str(p, "before", e->before);
        set_str(p, "after", e->sha);
    }
    *out_payload = p;
    return FERR_OK;
}

static enum ferr_code parse_gitlab(const char *event, const char *body,
                                   size_t len, struct webhook_event *e,
                                   struct ferr *err)
{
    bool push = strcasecmp(event, "Push Hook") == 0 ||
                strcasecmp(event, "Tag Push Hook") == 0;
    bool mr = strcasecmp(event, "Merge Request Hook") == 0;
    json_t *root;
    json_t *payload = NULL;
    enum ferr_code rc;

    if (!push && !mr)
        return unhandled(event, err);
    rc = load_json(body, len, &root, err);
    if (rc)
        return rc;
    if (push)
        rc = gl_push(root, e, &payload, err);
    else
        rc = gl_merge_request(root, e, &payload, err);
    if (!rc) {
        ev_set(&e->repo, jstr(payload, "repository.name"));
        ev_set(&e->repo_full, jstr(payload, "repository.full_name"));
    }
    e->payload = payload;
    json_decref(root);
    return rc;
}

/* ---------- ferry's post-receive hook ---------- */

/* "OLD NEW REFNAME" into @e. */
static bool hook_line(const char *p, size_t n, struct webhook_event *e)
{
    const char *sp1 = memchr(p, ' ', n);
    const char *sp2;
    const char *ref;
    size_t olen;
    size_t nlen;
    size_t rlen;
    char after[65];

    if (!sp1)
        return false;
    olen = (size_t)(sp1 - p);
    sp2 = memchr(sp1 + 1, ' ', n - olen - 1);
    if (!sp2)
        return false;
    nlen = (size_t)(sp2 - sp1 - 1);
    ref = sp2 + 1;
    rlen = n - (size_t)(ref - p);
    if (!is_oid(p, olen) || nlen != olen || !is_oid(sp1 + 1, nlen) ||
        !webhook_ref_valid(ref, rlen))
        return false;
    oid_copy(e->before, p, olen);
    oid_copy(after, sp1 + 1, nlen);
    if (is_zero_oid(e->before) && is_zero_oid(after))
        return false;
    e->deleted = is_zero_oid(after);
    if (!e->deleted)
        memcpy(e->sha, after, sizeof(after));
    free(e->ref);
    e->ref = xstrndup(ref, rlen);
    e->payload =
        json_pack("{s:s, s:s, s:s, s:b, s:b, s:b}", "ref", e->ref, "before",
                  e->before, "after", after, "created", is_zero_oid(e->before),
                  "deleted", e->deleted, "forced", 0);
    return e->payload != NULL;
}

static enum ferr_code parse_git(const char *body, size_t len,
                                struct webhook_event **out, size_t *out_n,
                                struct ferr *err)
{
    struct webhook_event *v = NULL;
    size_t n = 0;
    size_t cap = 0;
    size_t lineno = 0;
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i < len;) {
        const char *nl = memchr(body + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - body) : len;
        size_t l = end - i;

        lineno++;
        if (l > 0 && body[end - 1] == '\r')
            l--;
        if (l > 0) {
            if (n == LIM_HOOK_REFS) {
                rc = ferr_set(err, FERR_LIMIT, NULL,
                              "more than %u refs in one delivery",
                              LIM_HOOK_REFS);
                goto done;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 4;
                v = xrealloc(v, cap * sizeof(*v));
            }
            ev_init(&v[n], "push");
            n++;
            if (!hook_line(body + i, l, &v[n - 1])) {
                rc = ferr_set(err, FERR_PARSE, NULL, "malformed hook line %zu",
                              lineno);
                goto done;
            }
        }
        i = end + 1;
    }
    if (n == 0)
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "malformed hook body: no ref lines");
done:
    if (rc) {
        webhook_events_free(v, n);
        return rc;
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

/* ---------- entry point ---------- */

static const char *event_header_name(enum webhook_source src)
{
    switch (src) {
    case WH_GITEA: return "X-Gitea-Event";
    case WH_GITLAB: return "X-Gitlab-Event";
    default: return "X-GitHub-Event";
    }
}

enum ferr_code webhook_parse(enum webhook_source src, const char *event_header,
                             const char *body, size_t len,
                             struct webhook_event **out, size_t *out_n,
                             struct ferr *err)
{
    struct webhook_event *e;
    enum ferr_code rc;

    *out = NULL;
    *out_n = 0;
    if (len > LIM_HOOK_BODY)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "webhook body of %zu bytes is over the limit of %u",
                        len, LIM_HOOK_BODY);
    if (!body && len)
        return ferr_set(err, FERR_INVALID, NULL, "webhook body missing");
    if (src == WH_GIT)
        return parse_git(body ? body : "", len, out, out_n, err);
    if (src != WH_GITHUB && src != WH_GITEA && src != WH_GITLAB)
        return ferr_set(err, FERR_INVALID, NULL, "unknown webhook source");
    if (!event_header || !*event_header)
        return ferr_set(err, FERR_INVALID, NULL, "missing '%s' header",
                        event_header_name(src));
    e = xcalloc(1, sizeof(*e));
    if (src == WH_GITLAB)
        rc = parse_gitlab(event_header, body ? body : "", len, e, err);
    else
        rc = parse_hub(src, event_header, body ? body : "", len, e, err);
    if (rc) {
        webhook_events_free(e, 1);
        return rc;
    }
    *out = e;
    *out_n = 1;
    return FERR_OK;
}
