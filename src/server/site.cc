#include "server/site.hh"

#include "server/http.hh"

namespace hydra::server {

Site::Site(ServerConfig config, db::ConnectionPool& db, Clock now)
    // 2 s to connect, answers kept 1 s: many clients of /machines cost one request to the runner.
    : config_(std::move(config)),
      queueRunner_(config_.queueRunnerEndpoint, std::chrono::seconds(2), std::chrono::seconds(1)), db_(db),
      now_(std::move(now)), loginThrottle_(now_), store_(config_.nixStoreDb, config_.storeDir),
      binaryCache_(store_, config_.binaryCacheKey)
{}

std::string Site::url(std::string_view path) const
{
    return config_.basePath + std::string(path);
}

std::string Site::link(std::initializer_list<std::string_view> segments) const
{
    std::string path;
    for (auto s : segments) path += "/" + percentEncode(s);
    return url(path);
}

std::string Site::absoluteUrl(std::string_view path) const
{
    if (config_.baseUri.empty() || config_.baseUri.front() == '/') return url(path);
    return config_.baseUri + std::string(path);
}

} // namespace hydra::server
