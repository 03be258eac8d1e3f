/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * keytrail-gate's confinement of a path inside DIR, independent of rsync's own checks: the path is
 * resolved beneath a directory fd, component by component, and no symlink is followed on the way
 * (the last component included). openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the
 * kernel has it, an openat(O_NOFOLLOW) walk otherwise (and to name the component that failed).
 * Components that do not exist yet (a push creating new directories) end the walk: the existing
 * prefix is what is checked. Nothing here logs.
 */

#include <stdbool.h>

#include "macro.h"

enum gate_path_method {
        GATE_PATH_AUTO,    /* openat2() first, the walk when the kernel lacks it or to explain */
        GATE_PATH_WALK,    /* the O_NOFOLLOW walk only (tests; kernels before 5.6) */
};

/*
 * Resolve rel (DIR-relative, normalised: no "..", no empty or "." components, "." for DIR itself)
 * beneath dirfd. Returns 0 when no symlink lies on the existing prefix of rel; -ELOOP when one does,
 * with *ret_symlink (if not NULL) set to the DIR-relative path of that symlink (owned by the
 * caller); -ENOTDIR when a component before the last is not a directory (harmless, returned for
 * completeness: the caller lets rsync fail); another -errno when the walk could not look (EACCES,
 * ENOMEM, ...).
 */
_warn_unused_ int gate_path_resolve(int dirfd, const char *rel, enum gate_path_method method,
                                    char **ret_symlink);
