/* watchapi: placeholder until the module lands. */
#include "server/api.h"

void watchapi_dora(struct api_ctx *c)
{
    httpd_respond_error(c->req, 501, "not built yet");
}

void watchapi_run_reports(struct api_ctx *c)
{
    httpd_respond_error(c->req, 501, "not built yet");
}

void watchapi_trend(struct api_ctx *c)
{
    httpd_respond_error(c->req, 501, "not built yet");
}
