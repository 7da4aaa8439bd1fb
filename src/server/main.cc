// hydra-server: the web pages and JSON API of the farm.

#include "db/connection_pool.hh"
#include "db/daemon_database.hh"
#include "db/schema.hh"
#include "server/app.hh"
#include "server/http_server.hh"
#include "server/live_feed.hh"
#include "server/routes.hh"
#include "server/server_config.hh"
#include "server/site.hh"
#include "util/error.hh"
#include "util/logging.hh"
#include "util/stop_signals.hh"
#include "util/strings.hh"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace hydra;

namespace {

int64_t unixNow()
{
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A database that Hydra's own hydra-init created lacks the tables of sessions and API tokens
// (schema hydra_web); they are this server's, so it creates them. Reads work without them.
void prepareWebTables(const std::string& conninfo)
{
    try {
        pqxx::connection c(conninfo);
        db::initWebSchema(c);
    } catch (const std::exception& e) {
        log::error("hydra-server: cannot create its tables of sessions and API tokens (schema hydra_web), so "
                   "nobody can log in: {}",
                   oneLine(e.what()));
    }
}

void serve(const server::ServerConfig& config, const std::string& conninfo, const std::stop_token& stop)
{
    prepareWebTables(conninfo);
    db::ConnectionPool pool({.conninfo = conninfo, .maxConnections = config.maxDbConnections});
    server::Site site(config, pool, unixNow);
    // Live streams wait on these events; they must end before the server stops its threads.
    std::stop_callback endStreams(stop, [&site] { site.live().stop(); });
    std::unique_ptr<server::LiveFeed> feed;
    try {
        feed = std::make_unique<server::LiveFeed>(conninfo, site.live());
    } catch (const std::exception& e) {
        log::error("hydra-server: live pages and followed logs will not see the farm's events: {}",
                   oneLine(e.what()));
    }
    const auto& routes = server::routeTable();
    server::HttpServer http(config,
                            [&](server::Request req) { return handleRequest(site, routes, std::move(req)); });
    log::info("hydra-server listening on http://{}:{}{}/", config.host, http.port(), config.basePath);
    http.run(stop);
    log::info("hydra-server stopped");
}

int usage()
{
    std::fprintf(
        stderr,
        "usage: hydra-server [-p PORT | --listen ADDRESS:PORT] [--threads N] [--io-timeout SECONDS] [-v]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-v" || a == "--verbose")
            log::setLevel(log::Level::Debug);
        else if (a == "-h" || a == "--help")
            return usage();
        else
            args.push_back(a);
    }
    try {
        auto dataDir = hydraDataDir();
        auto config = server::makeServerConfig(args, HydraConfig::fromEnvironment(), dataDir);
        auto database = db::DatabaseSource::fromEnvironment(dataDir);
        runUntilStopSignal([&](const std::stop_token& stop) {
            auto conninfo = db::openDaemonDatabase("hydra-server", database, stop);
            if (conninfo) serve(config, *conninfo, stop);
        });
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hydra-server: error: %s\n", e.what());
    }
    return 1;
}
