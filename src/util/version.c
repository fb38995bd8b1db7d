/* glasstcp — the library's version string. */
#include <glass/version.h>

GLASS_API const char *glass_version(void)
{
    return GLASS_VERSION_STRING;
}
