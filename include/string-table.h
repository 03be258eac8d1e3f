/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Enum <-> string tables (house style 7.7): a table of names indexed by the enum, written once with
 * designated initialisers ([FOO_X] = "x"), and both lookups defined from it. Unknown values give
 * NULL one way and -EINVAL (the enums' _X_INVALID) the other. Pure functions; the table is borrowed.
 */

#include <stddef.h>

#include "macro.h"

/* table[i] for 0 <= i < n, else NULL. */
const char *string_table_to_string(const char *const *table, size_t n, int i);

/* The index of s in table (NULL entries never match), or -EINVAL; s may be NULL. */
int string_table_from_string(const char *const *table, size_t n, const char *s);

/* Defines  const char *NAME_to_string(TYPE)  over TABLE. */
#define DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, table)                                    \
        const char *name##_to_string(type i) {                                                     \
                return string_table_to_string(table, ELEMENTSOF(table), (int) i);                  \
        }

/* Defines  const char *NAME_to_string(TYPE)  and  TYPE NAME_from_string(const char *)  over TABLE. */
#define DEFINE_STRING_TABLE_LOOKUP(name, type, table)                                              \
        DEFINE_STRING_TABLE_LOOKUP_TO_STRING(name, type, table)                                    \
        type name##_from_string(const char *s) {                                                   \
                return (type) string_table_from_string(table, ELEMENTSOF(table), s);               \
        }
