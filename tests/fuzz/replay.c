/* SPDX-License-Identifier: MIT */
/*
 * Replays inputs through one fuzz target without libFuzzer: every file named, and every file in
 * every folder named (not recursive). TAP, one line per input; an input that crashes the target
 * ends the run (the sanitizers or abort() say why). Used for the seed corpora and regressions.
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned n;

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf;
        size_t len;
        long sz;

        if (!f || fseek(f, 0, SEEK_END) < 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                printf("not ok %u - %s: %s\n", ++n, path, strerror(errno));
                if (f)
                        (void) fclose(f);
                return -1;
        }
        buf = malloc((size_t) sz + 1);
        if (!buf)
                abort();
        len = fread(buf, 1, (size_t) sz, f);
        (void) fclose(f);
        /* an exact-size copy, so that ASan sees a read past the input */
        {
                uint8_t *exact = malloc(len ? len : 1);

                if (!exact)
                        abort();
                memcpy(exact, buf, len);
                (void) LLVMFuzzerTestOneInput(exact, len);
                free(exact);
        }
        free(buf);
        printf("ok %u - %s\n", ++n, path);
        fflush(stdout);
        return 0;
}

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(int argc, char **argv) {
        int failed = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        printf("not ok %u - %s: %s\n", ++n, argv[i], strerror(errno));
                        failed = 1;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        DIR *d = opendir(argv[i]);
                        struct dirent *de;
                        char **names = NULL;
                        size_t k = 0;

                        if (!d) {
                                printf("not ok %u - %s: %s\n", ++n, argv[i], strerror(errno));
                                failed = 1;
                                continue;
                        }
                        while ((de = readdir(d))) {
                                char **nn;

                                if (de->d_name[0] == '.')
                                        continue;
                                nn = realloc(names, (k + 1) * sizeof(*names));
                                if (!nn)
                                        abort();
                                names = nn;
                                if (asprintf(&names[k++], "%s/%s", argv[i], de->d_name) < 0)
                                        abort();
                        }
                        (void) closedir(d);
                        if (k > 0)
                                qsort(names, k, sizeof(*names), name_cmp);
                        for (size_t j = 0; j < k; j++) {
                                failed |= run_file(names[j]) < 0;
                                free(names[j]);
                        }
                        free(names);
                } else
                        failed |= run_file(argv[i]) < 0;
        }
        printf("1..%u\n", n);
        return failed;
}
