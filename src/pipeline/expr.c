/* expr: GitHub Actions expressions.  ${{ }} scanning, a lexer and
 * recursive-descent parser with the token rules of actions/runner's
 * DTExpressions2, and an evaluator with its index, filter and function
 * rules.  What values mean (coercion, comparison, string and JSON forms)
 * is exprval's.  No I/O (hashFiles is a callback); no Azure
 * Pipelines-only functions; no case folding beyond ASCII. */
#include "pipeline/expr.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/exprval.h"
#include "util/arena.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define MAX_FORMAT_ARGS 255u /* GitHub: a Byte of parameters */
#define HASH_MAX 1024u       /* hashFiles result */

/* The evaluator's bits in struct exprval's flags. */
enum val_flags {
    VAL_FILTERED = 1 << 0, /* an array made by '*': indexing maps over its
                            * items */
    VAL_EXACT = 1 << 1,    /* an object whose keys are case-sensitive
                            * (env) */
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* @base advanced by the characters of @src before @off. */
static struct pos pos_at(const struct pos *base, struct span src, size_t off)
{
    struct pos p = *base;

    for (size_t i = 0; i < off && i < src.len; i++)
        if (((unsigned char)src.p[i] & 0xc0) != 0x80)
            p.col++;
    return p;
}

__attribute__((format(printf, 6, 7))) static enum ferr_code
fail(struct ferr *err, enum ferr_code code, const struct pos *base,
     struct span src, size_t off, const char *fmt, ...)
{
    char msg[sizeof(err->msg)];
    struct pos p;
    va_list ap;

    if (!err || err->code != FERR_OK)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!base)
        return ferr_set(err, code, NULL, "%s", msg);
    p = pos_at(base, src, off);
    return ferr_set(err, code, &p, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* lexer (LexicalAnalyzer.cs)                                          */

enum tk {
    T_END, /* also "no token yet" */
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_DOT,
    T_STAR,
    T_NOT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NULL,
    T_TRUE,
    T_FALSE,
    T_NUMBER,
    T_STRING,
    T_FUNC, /* a keyword followed by "(" */
    T_NAME, /* a named value (context) */
    T_PROP, /* a keyword after "." */
    T_BAD,
};

struct tok {
    enum tk k;
    size_t off; /* byte offset in the source */
    size_t len;
    double num; /* T_NUMBER */
};

struct lexer {
    const char *s;
    size_t n;
    size_t i;
    enum tk last;
};

static bool is_boundary(const struct lexer *lx, size_t i)
{
    switch (lx->s[i]) {
    case '(':
    case '[':
    case ')':
    case ']':
    case ',':
    case '.':
    case '!':
    case '>':
    case '<':
    case '=':
    case '&':
    case '|':
        return true;
    default:
        return exprval_ws_len(lx->s + i, lx->n - i) > 0;
    }
}

static bool legal_keyword(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              is_digit(c) || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool span_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static void lex_skip_ws(struct lexer *lx)
{
    size_t k;

    while (lx->i < lx->n && (k = exprval_ws_len(lx->s + lx->i, lx->n - lx->i)))
        lx->i += k;
}

static void lex_number(struct lexer *lx, struct tok *t)
{
    lx->i++;
    while (lx->i < lx->n && (!is_boundary(lx, lx->i) || lx->s[lx->i] == '.'))
        lx->i++;
    t->len = lx->i - t->off;
    t->num = exprval_parse_number(span_of(lx->s + t->off, t->len));
    t->k = isnan(t->num) ? T_BAD : T_NUMBER;
}

static void lex_keyword(struct lexer *lx, struct tok *t)
{
    const char *w = lx->s + t->off;
    size_t save;

    lx->i++;
    while (lx->i < lx->n && !is_boundary(lx, lx->i))
        lx->i++;
    t->len = lx->i - t->off;
    if (!legal_keyword(w, t->len)) {
        t->k = T_BAD;
        return;
    }
    if (lx->last == T_DOT) {
        t->k = T_PROP;
        return;
    }
    if (span_is(w, t->len, "null")) {
        t->k = T_NULL;
        return;
    }
    if (span_is(w, t->len, "true")) {
        t->k = T_TRUE;
        return;
    }
    if (span_is(w, t->len, "false")) {
        t->k = T_FALSE;
        return;
    }
    if (span_is(w, t->len, "NaN") || span_is(w, t->len, "Infinity")) {
        t->k = T_NUMBER;
        t->num = w[0] == 'N' ? NAN : INFINITY;
        return;
    }
    save = lx->i;
    lex_skip_ws(lx);
    t->k = lx->i < lx->n && lx->s[lx->i] == '(' ? T_FUNC : T_NAME;
    lx->i = save;
}

static void lex_string(struct lexer *lx, struct tok *t)
{
    lx->i++;
    while (lx->i < lx->n) {
        if (lx->s[lx->i++] != '\'')
            continue;
        if (lx->i < lx->n && lx->s[lx->i] == '\'') {
            lx->i++;
            continue;
        }
        t->k = T_STRING;
        t->len = lx->i - t->off;
        return;
    }
    t->k = T_BAD;
    t->len = lx->i - t->off;
}

static void lex_operator(struct lexer *lx, struct tok *t)
{
    char c = lx->s[lx->i];
    char d = lx->i + 1 < lx->n ? lx->s[lx->i + 1] : '\0';

    t->len = 2;
    if (c == '!' && d == '=')
        t->k = T_NE;
    else if (c == '>' && d == '=')
        t->k = T_GE;
    else if (c == '<' && d == '=')
        t->k = T_LE;
    else if (c == '=' && d == '=')
        t->k = T_EQ;
    else if (c == '&' && d == '&')
        t->k = T_AND;
    else if (c == '|' && d == '|')
        t->k = T_OR;
    else {
        t->len = 1;
        t->k = c == '!' ? T_NOT : c == '>' ? T_GT : c == '<' ? T_LT : T_BAD;
    }
    lx->i += t->len;
}

static bool operand_expected(enum tk last)
{
    return last == T_END || last == T_COMMA || last == T_LPAREN ||
           last == T_LBRACK || (last >= T_NOT && last <= T_OR);
}

static struct tok lex_next(struct lexer *lx)
{
    struct tok t;
    char c;

    memset(&t, 0, sizeof(t));
    lex_skip_ws(lx);
    t.off = lx->i;
    if (lx->i >= lx->n) {
        t.k = T_END;
        return t;
    }
    c = lx->s[lx->i];
    t.len = 1;
    switch (c) {
    case '(':
        t.k = T_LPAREN;
        lx->i++;
        break;
    case ')':
        t.k = T_RPAREN;
        lx->i++;
        break;
    case '[':
        t.k = T_LBRACK;
        lx->i++;
        break;
    case ']':
        t.k = T_RBRACK;
        lx->i++;
        break;
    case ',':
        t.k = T_COMMA;
        lx->i++;
        break;
    case '*':
        t.k = T_STAR;
        lx->i++;
        break;
    case '\'':
        lex_string(lx, &t);
        break;
    case '!':
    case '>':
    case '<':
    case '=':
    case '&':
    case '|':
        lex_operator(lx, &t);
        break;
    default:
        if (c == '.' && !operand_expected(lx->last)) {
            t.k = T_DOT;
            lx->i++;
        } else if (c == '.' || c == '-' || c == '+' || is_digit(c)) {
            lex_number(lx, &t);
        } else {
            lex_keyword(lx, &t);
        }
        break;
    }
    lx->last = t.k;
    return t;
}

/* ------------------------------------------------------------------ */
/* syntax tree and parser                                              */

enum nk {
    N_LIT,
    N_CTX,
    N_INDEX, /* kid[0][kid[1]]; kid[1] NULL for '*' */
    N_NOT,
    N_AND,
    N_OR,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_CALL,
};

enum fn {
    F_CONTAINS,
    F_STARTSWITH,
    F_ENDSWITH,
    F_FORMAT,
    F_JOIN,
    F_TOJSON,
    F_FROMJSON,
    F_HASHFILES,
    F_SUCCESS,
    F_ALWAYS,
    F_CANCELLED,
    F_FAILURE,
    F_UNKNOWN, /* expr_refs only */
};

static const struct fninfo {
    const char *name;
    unsigned min, max;
    unsigned flag; /* EXPR_FN_* needed, 0 = always allowed */
} fns[] = {
    [F_CONTAINS] = { "contains", 2, 2, 0 },
    [F_STARTSWITH] = { "startsWith", 2, 2, 0 },
    [F_ENDSWITH] = { "endsWith", 2, 2, 0 },
    [F_FORMAT] = { "format", 1, MAX_FORMAT_ARGS, 0 },
    [F_JOIN] = { "join", 1, 2, 0 },
    [F_TOJSON] = { "toJSON", 1, 1, 0 },
    [F_FROMJSON] = { "fromJSON", 1, 1, 0 },
    [F_HASHFILES] = { "hashFiles", 1, MAX_FORMAT_ARGS, EXPR_FN_HASHFILES },
    [F_SUCCESS] = { "success", 0, 0, EXPR_FN_STATUS },
    [F_ALWAYS] = { "always", 0, 0, EXPR_FN_STATUS },
    [F_CANCELLED] = { "cancelled", 0, 0, EXPR_FN_STATUS },
    [F_FAILURE] = { "failure", 0, 0, EXPR_FN_STATUS },
};

/* In enum expr_ctx_flags bit order. */
static const char *const ctx_names[] = {
    "github", "env", "vars", "job", "jobs", "steps",
    "runner", "secrets", "strategy", "matrix", "needs", "inputs",
};
#define N_CTXS (sizeof(ctx_names) / sizeof(ctx_names[0]))
#define CTX_ENV 1

struct node {
    enum nk k;
    int id;              /* N_CTX: ctx_names index (-1 unknown); N_CALL: fn */
    unsigned depth;      /* tree depth below and including this node */
    size_t off;          /* byte offset of the token, for errors */
    size_t name_len;     /* N_CTX / N_CALL: the name as written */
    const char *name;
    struct exprval lit;  /* N_LIT: borrowed from the arena */
    struct node **kid;
    size_t nkid;
};

struct parser {
    struct lexer lx;
    struct tok t;        /* current token */
    struct arena *a;
    struct span src;
    const struct pos *pos;
    struct ferr *err;
    unsigned ctx_allowed;
    unsigned fn_allowed;
    bool lenient;        /* unknown names and functions pass (expr_refs) */
    bool has_status;     /* a status function is called */
    unsigned rec;        /* recursion depth */
};

static void advance(struct parser *p)
{
    p->t = lex_next(&p->lx);
}

static enum ferr_code unexpected(struct parser *p)
{
    const struct tok *t = &p->t;

    if (t->k == T_END)
        return fail(p->err, FERR_PARSE, p->pos, p->src, t->off,
                    "unexpected end of expression");
    return fail(p->err, FERR_PARSE, p->pos, p->src, t->off,
                "unexpected symbol '%.*s'", t->len > 40 ? 40 : (int)t->len,
                p->src.p + t->off);
}

static struct node *mk(struct parser *p, enum nk k, size_t off, size_t nkid)
{
    struct node *n = arena_alloc(p->a, sizeof(*n));

    n->k = k;
    n->off = off;
    n->depth = 1;
    n->nkid = nkid;
    if (nkid)
        n->kid = arena_alloc(p->a, nkid * sizeof(*n->kid));
    return n;
}

/* Set n->depth from its kids; GitHub caps the tree depth. */
static enum ferr_code seal(struct parser *p, struct node *n)
{
    unsigned d = 0;

    for (size_t i = 0; i < n->nkid; i++)
        if (n->kid[i] && n->kid[i]->depth > d)
            d = n->kid[i]->depth;
    n->depth = d + 1;
    if (n->depth > LIM_EXPR_DEPTH)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, n->off,
                    "expression nested deeper than %u levels",
                    LIM_EXPR_DEPTH);
    return FERR_OK;
}

/* A growable list of nodes, heap-backed while parsing. */
struct nvec {
    struct node **v;
    size_t n, cap;
};

static void nvec_push(struct nvec *nv, struct node *x)
{
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 8;
        nv->v = xrealloc(nv->v, nv->cap * sizeof(*nv->v));
    }
    nv->v[nv->n++] = x;
}

static struct node *mk_from(struct parser *p, enum nk k, size_t off,
                            struct nvec *nv)
{
    struct node *n = mk(p, k, off, nv->n);

    if (nv->n)
        memcpy(n->kid, nv->v, nv->n * sizeof(*nv->v));
    return n;
}

static enum ferr_code parse_expr(struct parser *p, struct node **out);

static enum ferr_code enter(struct parser *p)
{
    if (++p->rec > LIM_EXPR_DEPTH)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, p->t.off,
                    "expression nested deeper than %u levels",
                    LIM_EXPR_DEPTH);
    return FERR_OK;
}

static struct node *mk_string_lit(struct parser *p, const struct tok *t)
{
    struct node *n = mk(p, N_LIT, t->off, 0);
    const char *r = p->src.p + t->off + 1;
    size_t rn = t->len - 2;
    char *s = arena_alloc(p->a, rn + 1);
    size_t o = 0;

    for (size_t i = 0; i < rn; i++) {
        s[o++] = r[i];
        if (r[i] == '\'')
            i++; /* '' is one quote */
    }
    s[o] = '\0';
    n->lit = exprval_null();
    n->lit.k = EXPRVAL_STR;
    n->lit.s = s;
    n->lit.len = o;
    return n;
}

static int find_ctx(const char *s, size_t n)
{
    for (size_t i = 0; i < N_CTXS; i++)
        if (exprval_str_eq(s, n, ctx_names[i], strlen(ctx_names[i])))
            return (int)i;
    return -1;
}

static int find_fn(const char *s, size_t n)
{
    for (size_t i = 0; i < F_UNKNOWN; i++)
        if (exprval_str_eq(s, n, fns[i].name, strlen(fns[i].name)))
            return (int)i;
    return -1;
}

static enum ferr_code parse_call(struct parser *p, struct node **out)
{
    struct tok name = p->t;
    const char *ns = p->src.p + name.off;
    int id = find_fn(ns, name.len);
    struct nvec args = { NULL, 0, 0 };
    enum ferr_code rc = FERR_OK;
    struct node *n;

    if (id < 0 && !p->lenient)
        return fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                    "unrecognized function '%.*s'", (int)name.len, ns);
    if (id >= 0 && fns[id].flag && !(fns[id].flag & p->fn_allowed))
        return fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                    "function '%.*s' is not allowed here", (int)name.len, ns);
    if (id >= 0 && fns[id].flag == EXPR_FN_STATUS)
        p->has_status = true;
    advance(p); /* the name; "(" follows, the lexer saw it */
    advance(p);
    if (p->t.k == T_RPAREN) {
        advance(p);
    } else {
        for (;;) {
            struct node *arg;

            rc = parse_expr(p, &arg);
            if (rc)
                goto done;
            nvec_push(&args, arg);
            if (p->t.k == T_COMMA) {
                advance(p);
                continue;
            }
            if (p->t.k == T_RPAREN) {
                advance(p);
                break;
            }
            rc = unexpected(p);
            goto done;
        }
    }
    if (id >= 0 && args.n < fns[id].min) {
        rc = fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                  "too few parameters supplied to '%.*s'", (int)name.len, ns);
        goto done;
    }
    if (id >= 0 && args.n > fns[id].max) {
        rc = fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                  "too many parameters supplied to '%.*s'", (int)name.len, ns);
        goto done;
    }
    n = mk_from(p, N_CALL, name.off, &args);
    n->id = id < 0 ? F_UNKNOWN : id;
    n->name = ns;
    n->name_len = name.len;
    rc = seal(p, n);
    if (!rc)
        *out = n;
done:
    free(args.v);
    return rc;
}

static enum ferr_code parse_postfix(struct parser *p, struct node **io)
{
    enum ferr_code rc;

    while (p->t.k == T_DOT || p->t.k == T_LBRACK) {
        struct node *n = mk(p, N_INDEX, p->t.off, 2);

        n->kid[0] = *io;
        if (p->t.k == T_DOT) {
            advance(p);
            if (p->t.k == T_PROP) {
                struct node *key = mk(p, N_LIT, p->t.off, 0);
                char *s = arena_strndup(p->a, p->src.p + p->t.off, p->t.len);

                key->lit.k = EXPRVAL_STR;
                key->lit.s = s;
                key->lit.len = p->t.len;
                n->kid[1] = key;
            } else if (p->t.k != T_STAR) {
                return unexpected(p);
            }
            advance(p);
        } else {
            advance(p);
            if (p->t.k == T_STAR) {
                advance(p);
            } else {
                rc = parse_expr(p, &n->kid[1]);
                if (rc)
                    return rc;
            }
            if (p->t.k != T_RBRACK)
                return unexpected(p);
            advance(p);
        }
        rc = seal(p, n);
        if (rc)
            return rc;
        *io = n;
    }
    return FERR_OK;
}

static enum ferr_code parse_primary(struct parser *p, struct node **out)
{
    struct tok t = p->t;
    const char *w = p->src.p + t.off;
    struct node *n = NULL;
    enum ferr_code rc;

    switch (t.k) {
    case T_NULL:
    case T_TRUE:
    case T_FALSE:
    case T_NUMBER:
        n = mk(p, N_LIT, t.off, 0);
        n->lit = t.k == T_NULL     ? exprval_null()
                 : t.k == T_NUMBER ? exprval_num(t.num)
                                   : exprval_bool(t.k == T_TRUE);
        advance(p);
        *out = n;
        return FERR_OK; /* a literal takes no "." or "[" */
    case T_STRING:
        *out = mk_string_lit(p, &t);
        advance(p);
        return FERR_OK;
    case T_NAME:
        n = mk(p, N_CTX, t.off, 0);
        n->id = find_ctx(w, t.len);
        n->name = w;
        n->name_len = t.len;
        if (n->id < 0 && !p->lenient)
            return fail(p->err, FERR_INVALID, p->pos, p->src, t.off,
                        "unrecognized named-value '%.*s'", (int)t.len, w);
        if (n->id >= 0 && !(p->ctx_allowed & (1u << n->id)))
            return fail(p->err, FERR_INVALID, p->pos, p->src, t.off,
                        "named-value '%.*s' is not allowed here", (int)t.len,
                        w);
        advance(p);
        break;
    case T_FUNC:
        rc = parse_call(p, &n);
        if (rc)
            return rc;
        break;
    case T_LPAREN:
        advance(p);
        rc = parse_expr(p, &n);
        if (rc)
            return rc;
        if (p->t.k != T_RPAREN)
            return unexpected(p);
        advance(p);
        break;
    default:
        return unexpected(p);
    }
    rc = parse_postfix(p, &n);
    if (!rc)
        *out = n;
    return rc;
}

static enum ferr_code parse_unary(struct parser *p, struct node **out)
{
    struct node *n;
    size_t off = p->t.off;
    enum ferr_code rc;

    if (p->t.k != T_NOT)
        return parse_primary(p, out);
    rc = enter(p);
    if (rc)
        return rc;
    advance(p);
    n = mk(p, N_NOT, off, 1);
    rc = parse_unary(p, &n->kid[0]);
    if (!rc)
        rc = seal(p, n);
    p->rec--;
    if (!rc)
        *out = n;
    return rc;
}

static enum nk binop(enum tk k)
{
    switch (k) {
    case T_EQ:
        return N_EQ;
    case T_NE:
        return N_NE;
    case T_LT:
        return N_LT;
    case T_LE:
        return N_LE;
    case T_GT:
        return N_GT;
    default:
        return N_GE;
    }
}

/* Left-associative binary levels: 0 comparisons, 1 equality. */
static enum ferr_code parse_binary(struct parser *p, int level,
                                   struct node **out)
{
    struct node *l;
    enum ferr_code rc;

    rc = level == 0 ? parse_unary(p, &l) : parse_binary(p, 0, &l);
    while (!rc) {
        enum tk k = p->t.k;
        struct node *n;

        if (level == 0 && k != T_LT && k != T_LE && k != T_GT && k != T_GE)
            break;
        if (level == 1 && k != T_EQ && k != T_NE)
            break;
        n = mk(p, binop(k), p->t.off, 2);
        advance(p);
        n->kid[0] = l;
        rc = level == 0 ? parse_unary(p, &n->kid[1])
                        : parse_binary(p, 0, &n->kid[1]);
        if (!rc)
            rc = seal(p, n);
        l = n;
    }
    if (!rc)
        *out = l;
    return rc;
}

/* "&&" (level 0) and "||" (level 1), n-ary and flattened as GitHub's
 * parser does, so long chains do not deepen the tree. */
static enum ferr_code parse_logic(struct parser *p, int level,
                                  struct node **out)
{
    enum tk op = level == 0 ? T_AND : T_OR;
    enum nk kind = level == 0 ? N_AND : N_OR;
    struct nvec ops = { NULL, 0, 0 };
    size_t off = p->t.off;
    enum ferr_code rc;

    for (;;) {
        struct node *x;

        rc = level == 0 ? parse_binary(p, 1, &x) : parse_logic(p, 0, &x);
        if (rc)
            break;
        if (x->k == kind) {
            for (size_t i = 0; i < x->nkid; i++)
                nvec_push(&ops, x->kid[i]);
        } else {
            nvec_push(&ops, x);
        }
        if (p->t.k != op)
            break;
        advance(p);
    }
    if (!rc && ops.n == 1) {
        *out = ops.v[0];
    } else if (!rc) {
        struct node *n = mk_from(p, kind, off, &ops);

        rc = seal(p, n);
        if (!rc)
            *out = n;
    }
    free(ops.v);
    return rc;
}

static enum ferr_code parse_expr(struct parser *p, struct node **out)
{
    enum ferr_code rc = enter(p);

    if (!rc)
        rc = parse_logic(p, 1, out);
    p->rec--;
    return rc;
}

static void parser_init(struct parser *p, struct arena *a, struct span src,
                        const struct pos *pos, struct ferr *err)
{
    memset(p, 0, sizeof(*p));
    p->lx.s = src.p;
    p->lx.n = src.len;
    p->lx.last = T_END;
    p->a = a;
    p->src = src;
    p->pos = pos;
    p->err = err;
    p->ctx_allowed = EXPR_CTX_ALL;
    p->fn_allowed = EXPR_FN_ALL;
}

/* Parse all of p->src into *out. */
static enum ferr_code parse_all(struct parser *p, struct node **out)
{
    enum ferr_code rc;

    *out = NULL;
    if (p->src.len > LIM_EXPR_BYTES)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, 0,
                    "expression longer than %u bytes", LIM_EXPR_BYTES);
    advance(p);
    if (p->t.k == T_END)
        return fail(p->err, FERR_PARSE, p->pos, p->src, 0,
                    "expected an expression");
    rc = parse_expr(p, out);
    if (!rc && p->t.k != T_END)
        rc = unexpected(p);
    if (rc)
        *out = NULL;
    return rc;
}

/* ------------------------------------------------------------------ */
/* evaluation                                                          */

struct ev {
    const struct expr_env *env;
    struct span src;
    const struct pos *pos;
    struct ferr *err;
    size_t made; /* bytes of strings built so far, for the value limit */
};

static enum ferr_code eval(struct ev *e, const struct node *n,
                           struct exprval *out);

static struct exprval v_filtered_new(void)
{
    struct exprval v = exprval_null();

    v.k = EXPRVAL_ARR;
    v.j = json_array();
    v.own_j = true;
    v.flags = VAL_FILTERED;
    return v;
}

/* Object lookup: exact key first, then ignoring case (unless @exact). */
static json_t *obj_get(json_t *o, const char *k, size_t kn, bool exact)
{
    json_t *v = json_object_getn(o, k, kn);
    const char *key;
    size_t klen;

    if (v || exact)
        return v;
    json_object_keylen_foreach(o, key, klen, v)
    {
        if (exprval_str_eq(key, klen, k, kn))
            return v;
    }
    return NULL;
}

/* IndexHelper's integer index: floor of the number, 0..INT32_MAX. */
static bool int_index(const struct exprval *k, size_t *out)
{
    double d = exprval_to_num(k);

    if (isnan(d) || d < 0)
        return false;
    d = floor(d);
    if (d > 2147483647.0)
        return false;
    *out = (size_t)d;
    return true;
}

static void append_all(json_t *dst, json_t *coll)
{
    json_t *v;

    if (json_is_object(coll)) {
        const char *key;
        size_t klen;

        json_object_keylen_foreach(coll, key, klen, v)
        {
            json_array_append(dst, v);
        }
        (void)key;
        (void)klen;
    } else {
        size_t i;

        json_array_foreach(coll, i, v)
        {
            json_array_append(dst, v);
        }
    }
}

static enum ferr_code ev_index(struct ev *e, const struct node *n,
                               struct exprval *out)
{
    struct exprval l;
    struct exprval k = exprval_null();
    struct exprval_str ks;
    size_t ix = 0;
    bool has_ix;
    bool has_ks;
    enum ferr_code rc;

    rc = eval(e, n->kid[0], &l);
    if (rc)
        return rc;
    if (exprval_primitive(&l)) {
        exprval_release(&l);
        *out = n->kid[1] ? exprval_null() : v_filtered_new();
        return FERR_OK;
    }
    if (!n->kid[1]) {
        struct exprval f = v_filtered_new();

        if (l.flags & VAL_FILTERED) {
            size_t i;
            json_t *item;

            json_array_foreach(l.j, i, item)
            {
                if (json_is_object(item) || json_is_array(item))
                    append_all(f.j, item);
            }
        } else {
            append_all(f.j, l.j);
        }
        exprval_release(&l);
        *out = f;
        return FERR_OK;
    }
    rc = eval(e, n->kid[1], &k);
    if (rc) {
        exprval_release(&l);
        return rc;
    }
    has_ix = int_index(&k, &ix);
    has_ks = exprval_primitive(&k);
    if (has_ks)
        exprval_to_str(&k, &ks);
    if (l.flags & VAL_FILTERED) {
        struct exprval f = v_filtered_new();
        size_t i;
        json_t *item;

        json_array_foreach(l.j, i, item)
        {
            json_t *hit = NULL;

            if (json_is_object(item) && has_ks)
                hit = obj_get(item, ks.p, ks.len, false);
            else if (json_is_array(item) && has_ix)
                hit = json_array_get(item, ix);
            if (hit)
                json_array_append(f.j, hit);
        }
        *out = f;
    } else {
        json_t *hit = NULL;

        if (l.k == EXPRVAL_OBJ && has_ks)
            hit = obj_get(l.j, ks.p, ks.len, l.flags & VAL_EXACT);
        else if (l.k == EXPRVAL_ARR && has_ix)
            hit = json_array_get(l.j, ix);
        *out = hit ? exprval_child(&l, hit) : exprval_null();
    }
    exprval_release(&k);
    exprval_release(&l);
    return FERR_OK;
}

static enum ferr_code limit_err(struct ev *e, const struct node *n)
{
    return fail(e->err, FERR_LIMIT, e->pos, e->src, n->off,
                "result of '%.*s' longer than %u bytes", (int)n->name_len,
                n->name, LIM_EXPR_VALUE_BYTES);
}

/* The string built in @b as the result of @n.  All strings built in one
 * evaluation count together against LIM_EXPR_VALUE_BYTES, so nesting
 * cannot multiply memory (as GitHub's per-evaluation memory counter). */
static enum ferr_code take_result(struct ev *e, const struct node *n,
                                  struct buf *b, struct exprval *out)
{
    size_t len;
    char *s;

    if (b->len > LIM_EXPR_VALUE_BYTES - e->made)
        return limit_err(e, n);
    e->made += b->len;
    s = buf_take(b, &len);
    *out = exprval_adopt_str(s, len);
    return FERR_OK;
}

static enum ferr_code fn_contains(struct ev *e, const struct node *n,
                                  struct exprval *out)
{
    struct exprval l;
    struct exprval r = exprval_null();
    bool res = false;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    if (exprval_primitive(&l)) {
        struct exprval_str ls;
        struct exprval_str rs;

        rc = eval(e, n->kid[1], &r);
        if (!rc && exprval_primitive(&r)) {
            exprval_to_str(&l, &ls);
            exprval_to_str(&r, &rs);
            res = exprval_str_contains(ls.p, ls.len, rs.p, rs.len);
        }
    } else if (l.k == EXPRVAL_ARR && json_array_size(l.j) > 0) {
        size_t i;
        json_t *item;

        rc = eval(e, n->kid[1], &r);
        if (!rc) {
            json_array_foreach(l.j, i, item)
            {
                struct exprval iv = exprval_borrow_json(item);

                if (exprval_eq(&r, &iv)) {
                    res = true;
                    break;
                }
            }
        }
    }
    exprval_release(&r);
    exprval_release(&l);
    if (!rc)
        *out = exprval_bool(res);
    return rc;
}

static enum ferr_code fn_affix(struct ev *e, const struct node *n,
                               struct exprval *out)
{
    struct exprval l;
    struct exprval r = exprval_null();
    bool res = false;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    if (exprval_primitive(&l)) {
        rc = eval(e, n->kid[1], &r);
        if (!rc && exprval_primitive(&r)) {
            struct exprval_str ls;
            struct exprval_str rs;

            exprval_to_str(&l, &ls);
            exprval_to_str(&r, &rs);
            if (rs.len <= ls.len) {
                const char *at = n->id == F_STARTSWITH
                                     ? ls.p
                                     : ls.p + ls.len - rs.len;

                res = exprval_str_eq(at, rs.len, rs.p, rs.len);
            }
        }
    }
    exprval_release(&r);
    exprval_release(&l);
    if (!rc)
        *out = exprval_bool(res);
    return rc;
}

/* Format.cs, in two passes as GitHub does: the format string is checked
 * whole before any argument is evaluated, and arguments are evaluated
 * lazily, once each. */
struct fmt_args {
    struct exprval *v;
    bool *done;
    size_t n;
};

static enum ferr_code fmt_arg(struct ev *e, const struct node *n,
                              struct fmt_args *fa, size_t ai, struct buf *b)
{
    struct exprval_str s;
    enum ferr_code rc;

    if (!fa->done[ai]) {
        rc = eval(e, n->kid[ai + 1], &fa->v[ai]);
        if (rc)
            return rc;
        fa->done[ai] = true;
    }
    if (!b)
        return FERR_OK;
    exprval_to_str(&fa->v[ai], &s);
    if (buf_add(b, s.p, s.len))
        return limit_err(e, n);
    return FERR_OK;
}

/* Digits after "{": a Byte; *end is the index after them. */
static bool fmt_index(const char *f, size_t fn, size_t i, unsigned *out,
                      size_t *end)
{
    unsigned v = 0;
    size_t start = i;

    while (i < fn && is_digit(f[i])) {
        v = v * 10 + (unsigned)(f[i] - '0');
        if (v > 255)
            return false;
        i++;
    }
    *out = v;
    *end = i;
    return i > start;
}

/* After the index: "}" or ":" specifiers "}" ("}}" escapes inside).
 * *close is the closing brace, *has_spec whether specifiers are set. */
static bool fmt_spec(const char *f, size_t fn, size_t i, size_t *close,
                     bool *has_spec)
{
    *has_spec = false;
    if (i < fn && f[i] == '}') {
        *close = i;
        return true;
    }
    if (i >= fn || f[i] != ':')
        return false;
    for (i++; i < fn; i++) {
        if (f[i] != '}') {
            *has_spec = true;
        } else if (i + 1 < fn && f[i + 1] == '}') {
            *has_spec = true;
            i++;
        } else {
            *close = i;
            return true;
        }
    }
    return false;
}

static enum ferr_code fmt_run(struct ev *e, const struct node *n,
                              const struct exprval_str *fs,
                              struct fmt_args *fa, struct buf *b)
{
    const char *f = fs->p;
    size_t fn = fs->len;
    size_t i = 0;
    bool dry = b == NULL;
    enum ferr_code rc;

#define FMT_ADD(p, len)                                                 \
    do {                                                                \
        if (!dry && buf_add(b, (p), (len)))                             \
            return limit_err(e, n);                                     \
    } while (0)

    /* the next '{' and '}' at or after i, searched again only once
     * passed, so a long format string costs linear time */
    const char *lp = memchr(f, '{', fn);
    const char *rp = memchr(f, '}', fn);
    size_t lb = lp ? (size_t)(lp - f) : SIZE_MAX;
    size_t rb = rp ? (size_t)(rp - f) : SIZE_MAX;

    while (i < fn) {
        if (lp && lb < i) {
            lp = memchr(f + i, '{', fn - i);
            lb = lp ? (size_t)(lp - f) : SIZE_MAX;
        }
        if (rp && rb < i) {
            rp = memchr(f + i, '}', fn - i);
            rb = rp ? (size_t)(rp - f) : SIZE_MAX;
        }
        if (lp && (!rp || rb > lb)) {
            unsigned ai;
            size_t end;
            size_t close;
            bool spec;

            if (lb + 1 < fn && f[lb + 1] == '{') {
                FMT_ADD(f + i, lb - i + 1);
                i = lb + 2;
            } else if (rp && rb > lb + 1 &&
                       fmt_index(f, fn, lb + 1, &ai, &end) &&
                       fmt_spec(f, fn, end, &close, &spec)) {
                if (ai + 1 >= n->nkid)
                    return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                                "format string references more arguments "
                                "than were supplied: '%.*s'",
                                fn > 100 ? 100 : (int)fn, f);
                if (!dry) {
                    FMT_ADD(f + i, lb - i);
                    rc = fmt_arg(e, n, fa, ai, spec ? NULL : b);
                    if (rc)
                        return rc;
                    if (spec)
                        return fail(e->err, FERR_INVALID, e->pos, e->src,
                                    n->off,
                                    "format specifiers are not supported: "
                                    "'%.*s'",
                                    (int)(close - end), f + end);
                }
                i = close + 1;
            } else {
                return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                            "invalid format string: '%.*s'",
                            fn > 100 ? 100 : (int)fn, f);
            }
        } else if (rp) {
            if (rb + 1 < fn && f[rb + 1] == '}') {
                FMT_ADD(f + i, rb - i + 1);
                i = rb + 2;
            } else {
                return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                            "invalid format string: '%.*s'",
                            fn > 100 ? 100 : (int)fn, f);
            }
        } else {
            FMT_ADD(f + i, fn - i);
            break;
        }
    }
#undef FMT_ADD
    return FERR_OK;
}

static enum ferr_code fn_format(struct ev *e, const struct node *n,
                                struct exprval *out)
{
    struct exprval fv;
    struct exprval_str fs;
    struct fmt_args fa;
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &fv);

    if (rc)
        return rc;
    exprval_to_str(&fv, &fs);
    fa.n = n->nkid - 1;
    fa.v = xcalloc(fa.n + 1, sizeof(*fa.v));
    fa.done = xcalloc(fa.n + 1, sizeof(*fa.done));
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    rc = fmt_run(e, n, &fs, &fa, NULL);
    if (!rc)
        rc = fmt_run(e, n, &fs, &fa, &b);
    if (!rc)
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    for (size_t i = 0; i < fa.n; i++)
        exprval_release(&fa.v[i]);
    free(fa.v);
    free(fa.done);
    exprval_release(&fv);
    return rc;
}

static enum ferr_code fn_join(struct ev *e, const struct node *n,
                              struct exprval *out)
{
    struct exprval a;
    struct exprval sep = exprval_null();
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    if (a.k == EXPRVAL_STR) {
        *out = a;
        return FERR_OK;
    }
    if (exprval_primitive(&a)) {
        struct exprval_str s;

        exprval_to_str(&a, &s);
        *out = exprval_adopt_str(xstrndup(s.p, s.len), s.len);
        exprval_release(&a);
        return FERR_OK;
    }
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    if (a.k == EXPRVAL_ARR && json_array_size(a.j) > 0) {
        struct exprval_str ss;
        size_t i;
        json_t *item;

        ss.p = ",";
        ss.len = 1;
        if (json_array_size(a.j) > 1 && n->nkid > 1) {
            rc = eval(e, n->kid[1], &sep);
            if (!rc && exprval_primitive(&sep))
                exprval_to_str(&sep, &ss);
        }
        json_array_foreach(a.j, i, item)
        {
            struct exprval iv = exprval_borrow_json(item);
            struct exprval_str is;

            if (rc)
                break;
            exprval_to_str(&iv, &is);
            if ((i > 0 && buf_add(&b, ss.p, ss.len)) ||
                buf_add(&b, is.p, is.len))
                rc = limit_err(e, n);
        }
    }
    if (!rc)
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    exprval_release(&sep);
    exprval_release(&a);
    return rc;
}

static enum ferr_code fn_tojson(struct ev *e, const struct node *n,
                                struct exprval *out)
{
    struct exprval a;
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    if (exprval_write_json(&a, &b))
        rc = limit_err(e, n);
    else
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    exprval_release(&a);
    return rc;
}

static enum ferr_code fn_fromjson(struct ev *e, const struct node *n,
                                  struct exprval *out)
{
    struct exprval a;
    struct exprval_str s;
    json_error_t jerr;
    json_t *j;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    exprval_to_str(&a, &s);
    j = json_loadb(s.p, s.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j && strstr(jerr.text, "too big"))
        j = json_loadb(s.p, s.len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL |
                           JSON_DECODE_INT_AS_REAL,
                       &jerr);
    if (!j)
        rc = fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                  "fromJSON: invalid JSON at offset %d: %s",
                  jerr.position, jerr.text);
    else
        *out = exprval_adopt_json(j);
    exprval_release(&a);
    return rc;
}

static enum ferr_code fn_hashfiles(struct ev *e, const struct node *n,
                                   struct exprval *out)
{
    char **pats;
    struct buf b;
    struct ferr herr;
    enum ferr_code rc = FERR_OK;
    size_t got = 0;

    if (!e->env->hash_files)
        return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                    "function 'hashFiles' is not available here");
    pats = xcalloc(n->nkid, sizeof(*pats));
    for (; got < n->nkid; got++) {
        struct exprval v;
        struct exprval_str s;

        rc = eval(e, n->kid[got], &v);
        if (rc)
            break;
        exprval_to_str(&v, &s);
        pats[got] = xstrndup(s.p, s.len);
        exprval_release(&v);
    }
    if (!rc) {
        buf_init(&b, HASH_MAX);
        ferr_clear(&herr);
        rc = e->env->hash_files(e->env->ud, (const char *const *)pats,
                                n->nkid, &b, &herr);
        if (rc)
            fail(e->err, rc, e->pos, e->src, n->off, "hashFiles: %s",
                 herr.code ? herr.msg : "failed");
        else
            rc = take_result(e, n, &b, out);
        buf_release(&b);
    }
    for (size_t i = 0; i < got; i++)
        free(pats[i]);
    free(pats);
    return rc;
}

static enum ferr_code ev_call(struct ev *e, const struct node *n,
                              struct exprval *out)
{
    enum expr_status st = e->env->status;

    switch ((enum fn)n->id) {
    case F_CONTAINS:
        return fn_contains(e, n, out);
    case F_STARTSWITH:
    case F_ENDSWITH:
        return fn_affix(e, n, out);
    case F_FORMAT:
        return fn_format(e, n, out);
    case F_JOIN:
        return fn_join(e, n, out);
    case F_TOJSON:
        return fn_tojson(e, n, out);
    case F_FROMJSON:
        return fn_fromjson(e, n, out);
    case F_HASHFILES:
        return fn_hashfiles(e, n, out);
    case F_SUCCESS:
        *out = exprval_bool(st == EXPR_OK);
        return FERR_OK;
    case F_ALWAYS:
        *out = exprval_bool(true);
        return FERR_OK;
    case F_CANCELLED:
        *out = exprval_bool(st == EXPR_CANCELLED);
        return FERR_OK;
    case F_FAILURE:
        *out = exprval_bool(st == EXPR_FAILED);
        return FERR_OK;
    case F_UNKNOWN:
        break;
    }
    return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                "unrecognized function '%.*s'", (int)n->name_len, n->name);
}

static enum ferr_code ev_logic(struct ev *e, const struct node *n,
                               struct exprval *out)
{
    for (size_t i = 0; i < n->nkid; i++) {
        struct exprval v;
        enum ferr_code rc = eval(e, n->kid[i], &v);
        bool t;

        if (rc)
            return rc;
        t = exprval_truthy(&v);
        if (i + 1 == n->nkid || (n->k == N_AND ? !t : t)) {
            *out = v;
            return FERR_OK;
        }
        exprval_release(&v);
    }
    *out = exprval_null();
    return FERR_OK;
}

static enum ferr_code ev_compare(struct ev *e, const struct node *n,
                                 struct exprval *out)
{
    struct exprval l;
    struct exprval r;
    bool res;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    rc = eval(e, n->kid[1], &r);
    if (rc) {
        exprval_release(&l);
        return rc;
    }
    switch (n->k) {
    case N_EQ:
        res = exprval_eq(&l, &r);
        break;
    case N_NE:
        res = !exprval_eq(&l, &r);
        break;
    case N_LT:
        res = exprval_order(&l, &r) < 0;
        break;
    case N_LE:
        res = exprval_eq(&l, &r) || exprval_order(&l, &r) < 0;
        break;
    case N_GT:
        res = exprval_order(&l, &r) > 0;
        break;
    default:
        res = exprval_eq(&l, &r) || exprval_order(&l, &r) > 0;
        break;
    }
    exprval_release(&l);
    exprval_release(&r);
    *out = exprval_bool(res);
    return FERR_OK;
}

static enum ferr_code eval(struct ev *e, const struct node *n,
                           struct exprval *out)
{
    enum ferr_code rc;

    switch (n->k) {
    case N_LIT:
        *out = n->lit;
        return FERR_OK;
    case N_CTX: {
        json_t *c = NULL;

        if (n->id >= 0 && e->env->contexts)
            c = obj_get(e->env->contexts, ctx_names[n->id],
                        strlen(ctx_names[n->id]), false);
        *out = c ? exprval_borrow_json(c) : exprval_null();
        if (n->id == CTX_ENV) /* a case-sensitive dictionary on Linux
                               * runners */
            out->flags = VAL_EXACT;
        return FERR_OK;
    }
    case N_INDEX:
        return ev_index(e, n, out);
    case N_NOT: {
        struct exprval v;

        rc = eval(e, n->kid[0], &v);
        if (rc)
            return rc;
        *out = exprval_bool(!exprval_truthy(&v));
        exprval_release(&v);
        return FERR_OK;
    }
    case N_AND:
    case N_OR:
        return ev_logic(e, n, out);
    case N_CALL:
        return ev_call(e, n, out);
    default:
        return ev_compare(e, n, out);
    }
}

/* ------------------------------------------------------------------ */
/* public entry points                                                 */

static const struct expr_env empty_env = { NULL, EXPR_OK, NULL, NULL };

/* Parse and evaluate @src; *out is set only on success. */
static enum ferr_code eval_src(const struct expr_env *env, struct span src,
                               const struct pos *pos, struct exprval *out,
                               struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    rc = parse_all(&p, &root);
    if (!rc) {
        struct ev e = { env ? env : &empty_env, src, pos, err, 0 };

        rc = eval(&e, root, out);
    }
    /* a string literal result lives in the arena: copy it out */
    if (!rc && out->k == EXPRVAL_STR && !out->j && !out->own_s) {
        out->own_s = xmemdup(out->s, out->len + 1);
        out->s = out->own_s;
    }
    arena_free(a);
    return rc;
}

enum ferr_code expr_eval(const struct expr_env *env, struct span src,
                         const struct pos *pos, json_t **out,
                         struct ferr *err)
{
    struct exprval v;
    enum ferr_code rc;

    *out = NULL;
    rc = eval_src(env, src, pos, &v, err);
    if (!rc)
        *out = exprval_take_json(&v);
    return rc;
}

/* The template reader's scan for the next "${{ }}" from @from: "}}"
 * ends it unless inside a '...' string.  1: found, *start at "${{" and
 * *end after "}}"; 0: none; -1: not closed (*start set). */
static int scan_one(struct span s, size_t from, size_t *start, size_t *end)
{
    const char *p;
    bool in_str = false;

    if (from >= s.len)
        return 0;
    p = memmem(s.p + from, s.len - from, "${{", 3);
    if (!p)
        return 0;
    *start = (size_t)(p - s.p);
    for (size_t i = *start + 3; i < s.len; i++) {
        if (s.p[i] == '\'') {
            in_str = !in_str;
        } else if (!in_str && s.p[i] == '}' && s.p[i - 1] == '}') {
            *end = i + 1;
            return 1;
        }
    }
    return -1;
}

static enum ferr_code unclosed(struct span src, const struct pos *pos,
                               size_t start, struct ferr *err)
{
    return fail(err, FERR_PARSE, pos, src, start,
                "expression '${{' is not closed with '}}'");
}

enum ferr_code expr_scan(struct span src, const struct pos *pos,
                         int (*cb)(void *ud, struct span inner, size_t off),
                         void *ud, struct ferr *err)
{
    size_t from = 0;
    size_t start;
    size_t end;
    int r;

    while ((r = scan_one(src, from, &start, &end)) != 0) {
        int stop;

        if (r < 0)
            return unclosed(src, pos, start, err);
        stop = cb(ud, span_of(src.p + start + 3, end - start - 5), start + 3);
        if (stop)
            return (enum ferr_code)stop;
        from = end;
    }
    return FERR_OK;
}

/* Evaluate the ${{ }} at [start, end) of @src, errors placed in @src. */
static enum ferr_code eval_piece(const struct expr_env *env, struct span src,
                                 const struct pos *pos, size_t start,
                                 size_t end, struct exprval *out,
                                 struct ferr *err)
{
    struct span inner = span_of(src.p + start + 3, end - start - 5);
    struct pos ip;

    if (!pos)
        return eval_src(env, inner, NULL, out, err);
    ip = pos_at(pos, src, start + 3);
    return eval_src(env, inner, &ip, out, err);
}

enum ferr_code expr_interp(const struct expr_env *env, struct span src,
                           const struct pos *pos, struct buf *out,
                           struct ferr *err)
{
    size_t from = 0;
    size_t start;
    size_t end;
    int r;

    while ((r = scan_one(src, from, &start, &end)) != 0) {
        struct exprval v;
        struct exprval_str s;
        enum ferr_code rc;

        if (r < 0)
            return unclosed(src, pos, start, err);
        if (buf_add(out, src.p + from, start - from))
            goto too_long;
        rc = eval_piece(env, src, pos, start, end, &v, err);
        if (rc)
            return rc;
        exprval_to_str(&v, &s);
        rc = buf_add(out, s.p, s.len);
        exprval_release(&v);
        if (rc)
            goto too_long;
        from = end;
    }
    if (from < src.len && buf_add(out, src.p + from, src.len - from))
        goto too_long;
    return FERR_OK;
too_long:
    return fail(err, FERR_LIMIT, pos, src, 0,
                "interpolated value longer than %zu bytes", out->max);
}

/* When @src (trimmed) is exactly one ${{ }}: true, with its bounds. */
static bool single_piece(struct span src, size_t *start, size_t *end)
{
    struct span t = span_trim(src);
    size_t lead = (size_t)(t.p - src.p);

    if (t.len < 5 || memcmp(t.p, "${{", 3) != 0)
        return false;
    if (scan_one(src, lead, start, end) != 1)
        return false;
    return *start == lead && *end == lead + t.len;
}

enum ferr_code expr_interp_value(const struct expr_env *env, struct span src,
                                 const struct pos *pos, json_t **out,
                                 struct ferr *err)
{
    size_t start;
    size_t end;
    struct buf b;
    enum ferr_code rc;

    *out = NULL;
    if (single_piece(src, &start, &end)) {
        struct exprval v;

        rc = eval_piece(env, src, pos, start, end, &v, err);
        if (!rc)
            *out = exprval_take_json(&v);
        return rc;
    }
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    rc = expr_interp(env, src, pos, &b, err);
    if (!rc) {
        *out = json_stringn(b.len ? b.p : "", b.len);
        if (!*out)
            *out = json_lossy_stringn(b.p, b.len);
    }
    buf_release(&b);
    return rc;
}

/* Parse one condition expression; *has_status tells whether it calls a
 * status function.  The tree lives in @a. */
static enum ferr_code parse_cond(struct arena *a, struct span src,
                                 const struct pos *pos, struct node **root,
                                 bool *has_status, struct ferr *err)
{
    struct parser p;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    rc = parse_all(&p, root);
    *has_status = p.has_status;
    return rc;
}

enum ferr_code expr_eval_cond(const struct expr_env *env, struct span src,
                              const struct pos *pos, bool *out,
                              struct ferr *err)
{
    const struct expr_env *en = env ? env : &empty_env;
    struct span s = exprval_trim(src);
    struct pos sp;
    const struct pos *spos = NULL;
    struct arena *a;
    struct node *root;
    bool has_status = false;
    size_t start;
    size_t end;
    enum ferr_code rc;

    *out = false;
    if (pos) {
        sp = pos_at(pos, src, (size_t)(s.p - src.p));
        spos = &sp;
    }
    if (s.len == 0) {
        *out = en->status == EXPR_OK;
        return FERR_OK;
    }
    if (memmem(s.p, s.len, "${{", 3) && !single_piece(s, &start, &end)) {
        /* text around ${{ }}: GitHub turns it into format('...', ...),
         * a string, so the condition is its truthiness */
        size_t from = 0;
        int r;
        struct buf b;

        while ((r = scan_one(s, from, &start, &end)) != 0) {
            struct span inner = span_of(s.p + start + 3, end - start - 5);
            struct pos ip;
            bool hs = false;

            if (r < 0)
                return unclosed(s, spos, start, err);
            if (spos)
                ip = pos_at(spos, s, start + 3);
            a = arena_new(2048);
            rc = parse_cond(a, inner, spos ? &ip : NULL, &root, &hs, err);
            arena_free(a);
            if (rc)
                return rc;
            has_status = has_status || hs;
            from = end;
        }
        if (!has_status && en->status != EXPR_OK)
            return FERR_OK;
        buf_init(&b, LIM_EXPR_VALUE_BYTES);
        rc = expr_interp(en, s, spos, &b, err);
        if (!rc)
            *out = b.len > 0;
        buf_release(&b);
        return rc;
    }
    if (memmem(s.p, s.len, "${{", 3)) {
        size_t off = start + 3;

        if (spos)
            sp = pos_at(spos, s, off);
        s = span_of(s.p + off, end - start - 5);
    }
    a = arena_new(2048);
    rc = parse_cond(a, s, spos, &root, &has_status, err);
    if (!rc && (has_status || en->status == EXPR_OK)) {
        struct ev e = { en, s, spos, err, 0 };
        struct exprval v;

        rc = eval(&e, root, &v);
        if (!rc) {
            *out = exprval_truthy(&v);
            exprval_release(&v);
        }
    }
    arena_free(a);
    return rc;
}

bool expr_flag(const json_t *v)
{
    if (json_is_string(v))
        return strcmp(json_string_value(v), "true") == 0;
    return expr_truthy(v);
}

bool expr_truthy(const json_t *v)
{
    struct exprval x;

    if (!v)
        return false;
    x = exprval_borrow_json((json_t *)v);
    return exprval_truthy(&x);
}

enum ferr_code expr_to_string(const json_t *v, struct buf *out)
{
    struct exprval x;
    struct exprval_str s;

    if (!v)
        return FERR_OK;
    x = exprval_borrow_json((json_t *)v);
    exprval_to_str(&x, &s);
    return buf_add(out, s.p, s.len);
}

enum ferr_code expr_to_json(const json_t *v, struct buf *out)
{
    struct exprval x;

    if (!v)
        return buf_add(out, "null", 4);
    x = exprval_borrow_json((json_t *)v);
    return exprval_write_json(&x, out);
}

enum ferr_code expr_check(struct span src, const struct pos *pos,
                          unsigned ctx_allowed, unsigned fn_allowed,
                          struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    p.ctx_allowed = ctx_allowed;
    p.fn_allowed = fn_allowed;
    rc = parse_all(&p, &root);
    arena_free(a);
    return rc;
}

struct refs {
    void (*cb)(void *ud, const char *path);
    void *ud;
    struct buf path;
    const struct node **chain;
    size_t nchain;
    size_t cap;
};

/* Report the chain ending at @n when it starts at a context. */
static void emit_chain(struct refs *r, const struct node *n)
{
    const struct node *x = n;

    r->nchain = 0;
    while (x->k == N_INDEX) {
        if (r->nchain == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->chain = xrealloc(r->chain, r->cap * sizeof(*r->chain));
        }
        r->chain[r->nchain++] = x;
        x = x->kid[0];
    }
    if (x->k != N_CTX)
        return;
    buf_reset(&r->path);
    if (buf_add(&r->path, x->name, x->name_len))
        return;
    for (size_t i = r->nchain; i-- > 0;) {
        const struct node *key = r->chain[i]->kid[1];
        struct exprval_str s;

        if (!key || key->k != N_LIT) {
            s.p = "*";
            s.len = 1;
        } else {
            exprval_to_str(&key->lit, &s);
        }
        if (buf_addch(&r->path, '.') || buf_add(&r->path, s.p, s.len))
            return;
    }
    r->cb(r->ud, buf_cstr(&r->path));
}

static void walk_refs(struct refs *r, const struct node *n, bool in_chain)
{
    if ((n->k == N_INDEX || n->k == N_CTX) && !in_chain)
        emit_chain(r, n);
    if (n->k == N_INDEX) {
        walk_refs(r, n->kid[0], true);
        if (n->kid[1])
            walk_refs(r, n->kid[1], false);
        return;
    }
    for (size_t i = 0; i < n->nkid; i++)
        walk_refs(r, n->kid[i], false);
}

enum ferr_code expr_refs(struct span src,
                         void (*cb)(void *ud, const char *path), void *ud,
                         struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, NULL, err);
    p.lenient = true;
    rc = parse_all(&p, &root);
    if (!rc) {
        struct refs r;

        memset(&r, 0, sizeof(r));
        r.cb = cb;
        r.ud = ud;
        buf_init(&r.path, 2 * LIM_EXPR_BYTES);
        walk_refs(&r, root, false);
        buf_release(&r.path);
        free(r.chain);
    }
    arena_free(a);
    return rc;
}
