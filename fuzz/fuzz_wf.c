/* fuzz_wf: the whole workflow front end on arbitrary bytes — node_parse
 * with node_to_json and node_pos_at over every expression, wf_load and
 * lint_wf with every check (LINT_SECURITY), and wf_load_action.  Errors
 * are fine; crashes, hangs and leaks are not. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pipeline/lint.h"
#include "util/limits.h"

/* Visit scalars; @budget bounds the work in bytes, since aliases can
 * share one big node many times and node_pos_at is linear, and @depth
 * bounds the nesting that chains of aliases can build. */
static void poke(const struct node *n, size_t *budget, unsigned depth)
{
    if (!n || *budget == 0 || depth > 2 * LIM_YAML_DEPTH)
        return;
    (*budget)--;
    if (n->kind == NODE_SCALAR) {
        const char *p = n->str;
        const char *end = n->str + n->len;
        const char *hit;
        int left = 64;  /* node_pos_at is linear in the scalar */

        if (*budget < n->len * 8)
            return;
        *budget -= n->len * 8;
        while (p < end && left-- > 0 &&
               (hit = memmem(p, (size_t)(end - p), "${{", 3))) {
            struct pos pos = node_pos_at(n, (size_t)(hit - n->str) + 3);

            (void)pos;
            p = hit + 1;
        }
        (void)node_pos_at(n, n->len);
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == NODE_MAP)
            poke(n->keys[i], budget, depth + 1);
        poke(n->items[i], budget, depth + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(16 * 1024);
    struct span src = span_of(data, size);
    struct node *root = NULL;
    struct wf *wf = NULL;
    struct wf_action *act = NULL;
    struct diags d;
    struct ferr err;
    size_t budget = 64u << 20;

    diags_init(&d);
    ferr_clear(&err);
    if (node_parse(a, "fuzz.yml", src, &root, &err) == FERR_OK && root) {
        json_t *j = NULL;

        ferr_clear(&err);
        if (node_to_json(root, &j, &err) == FERR_OK)
            json_decref(j);
        poke(root, &budget, 0);
    }
    ferr_clear(&err);
    if (wf_load(a, "fuzz.yml", src, &wf, &d, &err) == FERR_OK)
        lint_wf(wf, LINT_SECURITY, &d);
    ferr_clear(&err);
    if (wf_load_action(a, "action.yml", src, &act, &d, &err) == FERR_OK)
        (void)act->nsteps;
    diags_release(&d);
    arena_free(a);
    return 0;
}
