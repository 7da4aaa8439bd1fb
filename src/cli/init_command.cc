#include "cli/commands.hh"
#include "cli/site.hh"
#include "db/schema.hh"

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
    else
        std::printf("migrated schema from version %d to %d (%d migrations)\n", r.fromVersion, r.toVersion,
                    r.applied);
    return 0;
}

} // namespace hydra::cli
