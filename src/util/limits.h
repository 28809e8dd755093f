/* limits: every bound on outside input in one place.  Going over any of
 * them is FERR_LIMIT, never a crash. */
#ifndef FERRY_UTIL_LIMITS_H
#define FERRY_UTIL_LIMITS_H

#define LIM_WORKFLOW_BYTES (1024u * 1024u)   /* one workflow file */
#define LIM_YAML_DEPTH 64u                   /* nesting of YAML nodes */
#define LIM_YAML_NODES 200000u               /* nodes in one file */
#define LIM_EXPR_BYTES (64u * 1024u)         /* one ${{ }} expression */
#define LIM_EXPR_DEPTH 100u                  /* parse nesting */
#define LIM_EXPR_VALUE_BYTES (16u * 1024u * 1024u) /* a string result */
#define LIM_MATRIX_JOBS 256u                 /* GitHub's limit per job */
#define LIM_JOBS 1000u                       /* jobs in a workflow */
#define LIM_STEPS 1000u                      /* steps in a job */
#define LIM_ENV_FILE_BYTES (16u * 1024u * 1024u) /* GITHUB_ENV etc. */
#define LIM_REPORT_FILE_BYTES (256u * 1024u) /* a step's FERRY_REPORT */
#define LIM_REPORTS_PER_STEP 32u /* summaries one step may record */
#define LIM_LOG_LINE 65536u                  /* longer lines are split */
#define LIM_SECRET_BYTES (64u * 1024u)       /* one secret value */
#define LIM_SECRETS 1024u                    /* masked values per run */
#define LIM_EVENT_BYTES (16u * 1024u * 1024u) /* -e event.json */
#define LIM_ARTIFACT_BYTES (2ull * 1024 * 1024 * 1024) /* one artifact */
#define LIM_CACHE_BYTES (2ull * 1024 * 1024 * 1024)    /* one cache entry */
#define LIM_MATRIX_WORK 50000000u           /* combinations x entries x dims */
#define LIM_TIMEOUT_MINUTES 43200u          /* 30 days: timeout-minutes */
#define LIM_COMPOSITE_DEPTH 10u              /* nested composite actions */
#define LIM_ARTIFACT_NAME 250u               /* artifact name (+ ".json") */
#define LIM_CACHE_KEY 512u                   /* actions/cache's key limit */
#define LIM_MANIFEST_BYTES (64u * 1024u * 1024u) /* one artifact manifest */
#define LIM_TREE_DEPTH 256u                  /* dirs walked for artifacts */
#define LIM_MATRIX_PRODUCT 4096u             /* matrix product before exclude */

#define LIM_API_BODY (1024u * 1024u)        /* an API request body */
#define LIM_HOOK_BODY (25u * 1024u * 1024u)  /* a webhook body (GitHub's cap) */
#define LIM_HOOK_REFS 1000u                  /* refs in one push delivery */
#define LIM_NAME 64u                         /* repo, secret, token names */
#define LIM_URL 4096u                        /* a repository URL or path */
#define LIM_DISPATCH_INPUTS 25u              /* workflow_dispatch inputs */
#define LIM_INPUT_BYTES (64u * 1024u)        /* one dispatch input value */
#define LIM_SSE_BACKLOG (4u * 1024u * 1024u) /* unsent bytes per SSE client */
#define LIM_HTTP_CONNECTIONS 512u            /* open API connections */
#define LIM_CLIENT_BODY (64u * 1024u * 1024u) /* an API answer the CLI reads */
#define LIM_REF_BYTES 1024u                  /* a git ref name (hooks, dispatch) */

#define LIM_PROXY_ANSWER (4u * 1024u * 1024u) /* a proxy admin answer */
#define LIM_PROXY_BACKENDS 1024u             /* backends/slots in one set */
#define LIM_INSTANCE_SPEC (1024u * 1024u)    /* an instance spec/state file */
#define LIM_HEALTH_BODY (1024u * 1024u)      /* health answer read for 'body' */
#define LIM_PROM_ANSWER (16u * 1024u * 1024u) /* a Prometheus query answer */

#define LIM_PROXY_HEAD (16u * 1024u)         /* a proxied request/response head */
#define LIM_PROXY_HEADERS 100u               /* header fields in one head */
#define LIM_PROXY_BODY (1024ull * 1024 * 1024) /* a proxied request body */
#define LIM_PROXY_CONNECTIONS 4096u          /* default --max-connections */
#define LIM_PROXY_ADMIN_BODY (1024u * 1024u) /* a proxy admin request body */

#define LIM_PROM_SERIES 1000u               /* series of one metric (/metrics) */
#define LIM_PROM_LABEL_VALUE 128u            /* a metric label value, bytes */

#define LIM_NOTIFY_CONFIG (1024u * 1024u)  /* the notifier's config file */
#define LIM_NOTIFY_CHANNELS 64u              /* channels in that config */
#define LIM_NOTIFY_RECIPIENTS 100u           /* e-mail recipients of one channel */
#define LIM_NOTIFY_MSG (1024u * 1024u)       /* one rendered alert message */

#define LIM_REPORT_BYTES (64u * 1024u * 1024u) /* one report file */
#define LIM_REPORT_FILES 64u                 /* report files one input reads */
#define LIM_REPORT_COUNT 1000000000000ull    /* a count in a report */
#define LIM_REPORT_FINDINGS 100000u          /* findings kept (all counted) */
#define LIM_REPORT_WALK 100000u              /* entries one '**' glob visits */
#define LIM_XML_DEPTH 256u                   /* nesting in a report's XML */
#define LIM_LCOV_RECORD_LINES (4u * 1024u * 1024u) /* DA lines of one lcov SF */

#define LIM_WEB_PAGE (32u * 1024u * 1024u)  /* one dashboard page's HTML */
#define LIM_DAG_NODES 2000u                  /* nodes of a drawn job graph */
#define LIM_DAG_EDGES 20000u                 /* edges of a drawn job graph */

#define LIM_CEXEC_INPUT (16u * 1024u * 1024u) /* a __cexec plan or step env */
#define LIM_SERVICES 32u                     /* services of one job */
#define LIM_CONTAINER_WORDS 256u             /* words of a container's options */

#define LIM_BUILD_CONTEXT (2ull * 1024 * 1024 * 1024) /* a build context tar */

#endif
