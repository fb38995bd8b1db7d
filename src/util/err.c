/* glasstcp — error code names and Linux strerror() wording, from the GLASS_ERRORS X-macro. */
#include <glass/err.h>

#include <limits.h>
#include <stddef.h>

struct err_entry {
    int code;
    const char *name;
    const char *text;
};

static const struct err_entry err_table[] = {
#define GLASS_X_ERR(name, val, text) {GLASS_##name, #name, text},
    GLASS_ERRORS(GLASS_X_ERR)
#undef GLASS_X_ERR
};

#define ERR_COUNT (sizeof(err_table) / sizeof(err_table[0]))

/* err or -err; INT_MIN has no positive counterpart and matches nothing. */
static const struct err_entry *err_lookup(int err)
{
    if (err == INT_MIN)
        return NULL;
    if (err < 0)
        err = -err;
    for (size_t i = 0; i < ERR_COUNT; i++) {
        if (err_table[i].code == err)
            return &err_table[i];
    }
    return NULL;
}

GLASS_API const char *glass_strerror(int err)
{
    const struct err_entry *e = err_lookup(err);
    return e != NULL ? e->text : "Unknown error";
}

GLASS_API const char *glass_errname(int err)
{
    const struct err_entry *e = err_lookup(err);
    return e != NULL ? e->name : NULL;
}

static char ascii_upper(char c)
{
    return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/* Case-insensitive (ASCII only, no locale) comparison with an upper-case table name. */
static bool name_equal(const char *s, const char *upper)
{
    while (*s != '\0' && ascii_upper(*s) == *upper) {
        s++;
        upper++;
    }
    return *s == '\0' && *upper == '\0';
}

GLASS_API int glass_errparse(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < ERR_COUNT; i++) {
        if (name_equal(name, err_table[i].name))
            return err_table[i].code;
    }
    return 0;
}
