#include "cli/site.hh"

#include "util/error.hh"

#include <cstdlib>
#include <unistd.h>

namespace hydra::cli {

Site Site::fromEnvironment()
{
    Site s;
    s.dataDir_ = hydraDataDir();
    s.database_ = db::DatabaseSource::fromEnvironment(s.dataDir_);
    // The config file defaults to $HYDRA_DATA/hydra.conf: use the state directory decided here.
    std::string dataDir = s.dataDir_;
    s.config_ = HydraConfig::fromEnvironment([dataDir](std::string_view name) -> std::optional<std::string> {
        if (name == "HYDRA_DATA") return dataDir;
        return systemEnv(name);
    });
    return s;
}

std::string Site::conninfo(bool startPrivate) const
{
    return database_.conninfo(startPrivate);
}

std::unique_ptr<pqxx::connection> Site::connect(bool startPrivate) const
{
    return database_.connect(startPrivate);
}

} // namespace hydra::cli
