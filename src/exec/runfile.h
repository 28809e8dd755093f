/* runfile: the files a step writes to talk to the runner — GITHUB_ENV,
 * GITHUB_OUTPUT, GITHUB_STATE (NAME=value lines and the multi-line
 * NAME<<DELIMITER form) and GITHUB_PATH (one directory per line). */
#ifndef FERRY_EXEC_RUNFILE_H
#define FERRY_EXEC_RUNFILE_H

#include "util/ferr.h"
#include "util/span.h"

/**
 * Parse the contents of a GITHUB_ENV-style file.  For each assignment call
 * @cb with the name and the value (multi-line values joined with '\n',
 * without the final newline; "\r\n" accepted as a line end).  Empty lines
 * are skipped; a line of spaces is an error, as on GitHub.  Whichever of
 * '=' and '<<' comes first decides the form, so a heredoc name never
 * contains '='.  The spans passed to @cb are valid during the call only.
 * Errors (FERR_PARSE, err->pos.line = the line in @src, col 1,
 * err->pos.file = @file): a line without '=' or '<<', an empty name, an
 * empty delimiter, a missing closing delimiter (reported at the NAME<<
 * line); FERR_LIMIT over LIM_ENV_FILE_BYTES (pos.line 0).  Assignments
 * before the error have been passed to @cb.
 * A non-zero @cb result stops the parse and is returned.
 */
enum ferr_code runfile_parse_env(const char *file, struct span src,
                                 int (*cb)(void *ud, struct span name,
                                           struct span value),
                                 void *ud, struct ferr *err) FERR_MUST_CHECK;

/**
 * Parse GITHUB_PATH: @cb gets each non-empty trimmed line, in order.
 * FERR_LIMIT over LIM_ENV_FILE_BYTES; a non-zero @cb result stops the
 * parse and is returned.
 */
enum ferr_code runfile_parse_path(struct span src,
                                  int (*cb)(void *ud, struct span dir),
                                  void *ud) FERR_MUST_CHECK;

#endif
