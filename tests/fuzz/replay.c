/* glasstcp — run a fuzz harness over files without libFuzzer: every regular file named on the
 * command line, or found (not recursively) in a directory named there, is one input. Built
 * with the normal compiler for the test suite, so that the seed corpus and every crash kept as
 * a regression input are replayed by `ctest` (tests/fuzz/CMakeLists.txt). */
#include "fuzz.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    static uint8_t buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    LLVMFuzzerTestOneInput(buf, n);
    return 0;
}

int main(int argc, char **argv)
{
    int files = 0, bad = 0;
    for (int a = 1; a < argc; a++) {
        struct stat sb;
        if (stat(argv[a], &sb) != 0) {
            fprintf(stderr, "replay: no such file or directory: %s\n", argv[a]);
            return 2;
        }
        if (!S_ISDIR(sb.st_mode)) {
            bad += run_file(argv[a]);
            files++;
            continue;
        }
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
                bad += run_file(path);
                files++;
            }
        }
        if (d)
            closedir(d);
    }
    printf("replay: %d inputs, %d unreadable\n", files, bad);
    return bad ? 1 : files > 0 ? 0 : 1;
}
