/* demux: the engine's multiplexed attach/logs/exec stream split back into
 * stdout and stderr.  Pure and allocation-free: payload pieces go to the
 * callback as they arrive, so a frame of any length costs nothing.  It
 * does not guess whether a stream is multiplexed (the caller knows from
 * the container's Tty). */
#include "docker/docker.h"

#include <string.h>

#define BAD_STREAM (-1) /* @m saw a bad header and stays unusable */

void docker_demux_init(struct docker_demux *m)
{
    memset(m, 0, sizeof(*m));
}

enum ferr_code
docker_demux_feed(struct docker_demux *m, const void *data, size_t n,
                  void (*cb)(void *ud, int stream, const char *p, size_t n),
                  void *ud)
{
    const unsigned char *p = data;

    if (m->stream == BAD_STREAM)
        return FERR_PARSE;
    while (n > 0) {
        if (m->left == 0) {
            size_t k = sizeof(m->hdr) - m->have;

            if (k > n)
                k = n;
            memcpy(m->hdr + m->have, p, k);
            m->have += k;
            p += k;
            n -= k;
            if (m->have < sizeof(m->hdr))
                break;
            if (m->hdr[0] > 2 || m->hdr[1] || m->hdr[2] || m->hdr[3]) {
                m->stream = BAD_STREAM;
                return FERR_PARSE;
            }
            m->stream = m->hdr[0] == 0 ? 1 : m->hdr[0];
            m->left = (uint32_t)m->hdr[4] << 24 | (uint32_t)m->hdr[5] << 16 |
                      (uint32_t)m->hdr[6] << 8 | (uint32_t)m->hdr[7];
            m->have = 0;
            continue;
        }
        size_t k = m->left < n ? m->left : n;

        cb(ud, m->stream, (const char *)p, k);
        m->left -= (uint32_t)k;
        p += k;
        n -= k;
    }
    return FERR_OK;
}

bool docker_demux_partial(const struct docker_demux *m)
{
    return m->stream != BAD_STREAM && (m->have > 0 || m->left > 0);
}
