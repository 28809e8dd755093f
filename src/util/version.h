/* version: ferry's version, for `ferry version` and the metrics. */
#ifndef FERRY_UTIL_VERSION_H
#define FERRY_UTIL_VERSION_H

#define FERRY_VERSION "0.1.0"

#endif
