/* output: a job's log.  Lines from its processes' pipes are parsed for
 * workflow commands (::add-mask::, ::group::, annotations, ...), masked,
 * and emitted as events; ferry's own lines about the job go the same
 * way.  Knows nothing about steps beyond the number it is given. */
#ifndef FERRY_ENGINE_OUTPUT_H
#define FERRY_ENGINE_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/event.h"
#include "exec/mask.h"
#include "util/loop.h"

struct outpipe;

struct output {
    struct loop *loop;             /* borrowed */
    const struct event_sink *sink; /* borrowed */
    struct mask *mask;             /* borrowed; ::add-mask:: adds to it */
    struct event base;             /* identifies the job; its strings are
                                    * borrowed and outlive the output */
    bool debug;                    /* show ::debug:: lines */
    char *group;                   /* the open ::group:: title, or NULL */
    json_t *set_output;            /* ::set-output:: target (borrowed) or
                                    * NULL */
    struct outpipe *pipes;         /* every pipe adopted, newest first */
};

/** Set up @o; @base is copied (its strings stay borrowed). */
void output_init(struct output *o, struct loop *l,
                 const struct event_sink *sink, struct mask *m,
                 const struct event *base);
/** Close every pipe and free what @o owns. */
void output_release(struct output *o);

/** Mask and emit a line of ferry's own about step @step (-1: the job). */
void output_say(struct output *o, int step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** A copy of @text with every secret masked; the caller frees it. */
char *output_masked(const struct output *o, const char *text);

/**
 * Read process group @pgid's output from @fd (non-blocking; adopted:
 * closed by the output, even on failure) as lines of step @step, from
 * the loop, until EOF.
 */
struct outpipe *output_adopt_pipe(struct output *o, int fd, pid_t pgid,
                                  int step);

/**
 * The pipe's process exited: take what it wrote (up to @budget bytes,
 * never waiting), deliver a last unterminated line, and attribute later
 * lines (from background processes still holding the pipe) to the job.
 */
void output_pipe_exited(struct outpipe *p, size_t budget);

/** Send @sig to the process group of every pipe. */
void output_signal_groups(struct output *o, int sig);

/** Close every pipe (their writers get EPIPE). */
void output_close_pipes(struct output *o);

#endif
