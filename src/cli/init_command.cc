#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"
#include "db/users.hh"

#include <cstdio>

namespace hydra::cli {

int cmdInit(Args& args)
{
    args.expectEnd();
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/true);
    auto r = db::initSchema(*conn);
    if (r.applied == 0)
        std::printf("schema is up to date (version %d)\n", r.toVersion);
    else if (r.fromVersion == 0)
        std::printf("created schema version %d\n", r.toVersion);
    else if (r.fromVersion == r.toVersion)
        std::printf("repaired schema version %d to Hydra's shape\n", r.toVersion);
    else
        std::printf("migrated schema from version %d to %d (%d migrations)\n", r.fromVersion, r.toVersion,
                    r.applied);
    // As Hydra's hydra-init: no bare SHA-1 password hash survives an init.
    if (int n = db::upgradeLegacyPasswordHashes(*conn); n > 0)
        std::printf("upgraded %d legacy SHA-1 password hash%s to Argon2id\n", n, n == 1 ? "" : "es");
    return 0;
}

} // namespace hydra::cli
