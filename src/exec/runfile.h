/* runfile: the files a step writes to talk to the runner — GITHUB_ENV,
 * GITHUB_OUTPUT, GITHUB_STATE (NAME=value lines and the multi-line
 * NAME<<DELIMITER form) and GITHUB_PATH (one directory per line). */
#ifndef FERRY_EXEC_RUNFILE_H
#define FERRY_EXEC_RUNFILE_H

#include "util/ferr.h"
#include "util/span.h"

/**
 * Parse the contents of a GITHUB_ENV-style file.  For each assignment call
 * @cb with the name and the value (multi-line values without the final
 * newline; "\r\n" accepted as a line end).  Blank lines are skipped.
 * Errors (FERR_PARSE, err->pos.line = the line in @src, err->pos.file =
 * @file): a line without '=' or '<<', an empty name, a missing closing
 * delimiter, an empty delimiter; FERR_LIMIT over LIM_ENV_FILE_BYTES.
 * A non-zero @cb result stops the parse and is returned.
 */
enum ferr_code runfile_parse_env(const char *file, struct span src,
                                 int (*cb)(void *ud, struct span name,
                                           struct span value),
                                 void *ud, struct ferr *err) FERR_MUST_CHECK;

/** Parse GITHUB_PATH: @cb gets each non-empty trimmed line. */
enum ferr_code runfile_parse_path(struct span src,
                                  int (*cb)(void *ud, struct span dir),
                                  void *ud) FERR_MUST_CHECK;

#endif
