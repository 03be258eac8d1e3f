/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Shared by the fuzz targets (tests/fuzz/fuzz-*.c): each defines LLVMFuzzerTestOneInput() over
 * untrusted bytes. Built with libFuzzer under -Dfuzz=true (clang), and with replay.c as a plain
 * program in every build, which runs the seed corpus and every regression input as a test.
 * A violated property aborts (a crash to libFuzzer, a failure to the replay test).
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                          \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__,      \
                                #cond);                                                            \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)
