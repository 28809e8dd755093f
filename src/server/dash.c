/* dash: placeholder until the module lands. */
#include "server/dash.h"

void dash_handle(struct server *s, struct httpd_req *req)
{
    (void)s;
    httpd_respond_error(req, 404, "no route %s", httpd_req_path(req));
}
