#include "cli/commands.hh"
#include "cli/daemons.hh"
#include "cli/site.hh"
#include "db/connect.hh"
#include "db/jobsets.hh"
#include "db/overview.hh"
#include "db/projects.hh"
#include "db/schema.hh"
#include "db/users.hh"
#include "nix/sandbox_shell.hh"
#include "util/error.hh"
#include "util/process.hh"
#include "util/strings.hh"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <utility>

namespace hydra::cli {

namespace {

void makeStateDirs(const Site& site)
{
    std::error_code ec;
    for (auto sub : {"", "/build-logs", "/logs"}) {
        std::filesystem::create_directories(site.dataDir() + sub, ec);
        if (ec) throw Error("cannot create the state directory {}{}: {}", site.dataDir(), sub, ec.message());
    }
}

/// A signing key for a new site's binary cache, made by Nix itself under keys/ of the state
/// directory: (secret key file, public key), or nothing (said why) when Nix cannot make one.
std::optional<std::pair<std::string, std::string>> generateCacheKey(const Site& site)
{
    auto dir = site.dataDir() + "/keys";
    std::filesystem::create_directories(dir);
    auto sec = dir + "/binary-cache.sec", pub = dir + "/binary-cache.pub";
    auto r = run({.argv = {"nix-store", "--generate-binary-cache-key", "hydra-1", sec, pub},
                  .pipeStdout = true,
                  .pipeStderr = true},
                 {}, std::chrono::minutes(1));
    std::ifstream in(pub);
    std::string key;
    if (!exitedOk(r.status) || !std::getline(in, key) || key.empty()) {
        std::printf("binary cache: unsigned (nix-store --generate-binary-cache-key failed: %s)\n",
                    oneLine(r.err).c_str());
        return std::nullopt;
    }
    std::filesystem::permissions(sec,
                                 std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    return std::pair{sec, key};
}

/// A first hydra.conf, so that a new site shows the whole pipeline: hydra-notify appends the
/// description of every finished build to finished-builds.log in the state directory. An
/// existing file (or HYDRA_CONFIG naming one) is never touched.
void writeExampleConfig(const Site& site)
{
    const char* named = std::getenv("HYDRA_CONFIG"); // NOLINT(concurrency-mt-unsafe): start-up
    std::filesystem::path path = named && *named ? named : site.dataDir() + "/hydra.conf";
    if (std::filesystem::exists(path)) return;
    auto log = site.dataDir() + "/finished-builds.log";
    std::ofstream f(path);
    f << "# Written by `hydra up` for a new site; edit freely (hydra.conf, as Hydra reads it).\n"
      << "max_concurrent_notifications = 2\n"
      << "# hydra-server's /machines and /queue-runner-status read the queue runner here\n"
      << "# (its queue_runner_metrics_address, 127.0.0.1:9198 unless set).\n"
      << "queue_runner_endpoint = http://127.0.0.1:9198\n"
      << "\n"
      << "# Every finished build's HYDRA_JSON, one document after another.\n"
      << "<runcommand>\n"
      << "  job = *:*:*\n"
      << "  command = { cat \"$HYDRA_JSON\"; echo; } >> '" << log << "'\n"
      << "</runcommand>\n";
    if (auto key = generateCacheKey(site)) {
        f << "\n# hydra-server signs the narinfo of its binary cache with this key; users trust its\n"
          << "# public half (" << key->second << ").\n"
          << "binary_cache_secret_key_file = " << key->first << "\n";
        std::printf("binary cache: http://127.0.0.1:3000, signed; trust it with trusted-public-keys = %s\n",
                    key->second.c_str());
    }
    if (!f) throw Error("cannot write the example configuration {}", path.string());
    std::printf("configuration: wrote an example %s\n", path.c_str());
}

/// The example's shell (nix/sandbox_shell.hh), laid out afresh from this machine's busybox in
/// the state directory: the value of the jobset's path input "busybox".
db::JobsetSpec::Input exampleShell(const Site& site)
{
    auto dir = std::filesystem::path(site.dataDir()) / "example" / "busybox";
    auto busybox = nix::findStaticBusybox();
    nix::layOutShell(dir, busybox);
    std::printf("example: the builds' shell is %s (a copy of %s)\n", dir.c_str(), busybox.c_str());
    return {.name = "busybox", .type = "path", .value = dir.string()};
}

/// The example project: jobset "hello" evaluates `dir`/release.nix, copied in as a path input,
/// with the shell its derivations build with as a second one.
void createExample(pqxx::connection& conn, const Site& site, const std::string& dir)
{
    auto abs = std::filesystem::absolute(dir);
    if (!std::filesystem::exists(abs / "release.nix"))
        throw Error("--example {}: there is no release.nix in that directory", dir);
    auto shell = exampleShell(site);
    db::JobsetSpec spec{.project = "example",
                        .jobset = "hello",
                        .description = "The example jobset of `hydra up`",
                        .nixExprInput = "src",
                        .nixExprPath = "release.nix",
                        .checkInterval = 60,
                        .inputs = {{.name = "src", .type = "path", .value = abs.string()}, shell}};
    pqxx::work t(conn);
    auto [id, created] = db::createJobsetIfMissing(t, spec);
    // An example made before its builds needed a shell from the store lacks the input.
    bool shellAdded = !created && db::addJobsetInputIfMissing(t, spec.project, spec.jobset, shell);
    t.commit();
    if (created)
        std::printf("example: created project example, jobset hello (%s/release.nix)\n", abs.c_str());
    if (shellAdded) std::printf("example: gave jobset example:hello the input busybox\n");
}

/// The database in use and where it was named: "<conninfo> (HYDRA_DATABASE_URL)".
std::string databaseLine(const Site& site)
{
    const auto& source = site.database();
    return db::redactConninfo(site.conninfo(false)) + " (" +
           (source.external() ? source.variable() : std::string("private cluster")) + ")";
}

} // namespace

int cmdUp(Args& args)
{
    std::optional<std::string> example;
    while (!args.done()) {
        auto a = args.next();
        if (a != "--example") throw UsageError("unexpected argument '" + a + "'");
        if (args.done()) throw UsageError("--example needs a directory");
        example = args.next();
    }
    Site site = Site::fromEnvironment();
    makeStateDirs(site);
    writeExampleConfig(site);
    auto conn = site.connect(/*startPrivate=*/true);
    auto schema = db::initSchema(*conn);
    db::upgradeLegacyPasswordHashes(*conn); // as `hydra init` does: up is init, then the daemons
    std::printf("state directory: %s\n", site.dataDir().c_str());
    std::printf("database: %s\n", databaseLine(site).c_str());
    std::printf("schema: version %d%s\n", schema.toVersion, schema.applied ? " (initialised now)" : "");
    if (example) createExample(*conn, site, *example);
    Daemons daemons(site.dataDir(), Daemons::selfDir());
    if (!daemons.running("hydra-evaluator")) {
        // An evaluator killed mid-evaluation leaves its jobsets marked; none runs now.
        pqxx::work t(*conn);
        db::unlockJobsets(t);
        t.commit();
    }
    for (const auto& line : daemons.startAll({{"HYDRA_DATA", site.dataDir()}}))
        std::printf("%s\n", line.c_str());
    auto installed = daemons.installed();
    if (std::find(installed.begin(), installed.end(), "hydra-server") != installed.end()) {
        std::printf("web pages and JSON API: http://127.0.0.1:3000/ (hydra-server's default address)\n");
        // A new site has nobody who can log in: say how to make the first administrator.
        if (!db::anyUserCanLogIn(*conn))
            std::printf("to log in there, create an administrator: hydra create-user NAME --role admin "
                        "--password-prompt\n");
    }
    std::printf("hydra is up; to use it from this shell: export HYDRA_DATA=%s\n", site.dataDir().c_str());
    return 0;
}

int cmdDown(Args& args)
{
    args.expectEnd();
    Site site = Site::fromEnvironment();
    Daemons daemons(site.dataDir(), Daemons::selfDir());
    for (const auto& line : daemons.stopAll(std::chrono::seconds(60))) std::printf("%s\n", line.c_str());
    if (site.externalDatabase()) {
        std::printf("database is external (%s): not stopping it\n", site.database().variable().c_str());
        return 0;
    }
    auto cluster = site.privateCluster();
    if (!cluster.running()) {
        std::printf("private database under %s/postgres is not running\n", site.dataDir().c_str());
        return 0;
    }
    cluster.stop();
    std::printf("stopped the private database under %s/postgres\n", site.dataDir().c_str());
    return 0;
}

int cmdStatus(Args& args)
{
    args.expectEnd();
    Site site = Site::fromEnvironment();
    auto conn = site.connect(/*startPrivate=*/false);
    int version = db::schemaVersion(*conn);
    std::printf("state directory: %s\n", site.dataDir().c_str());
    std::printf("database: %s\n", databaseLine(site).c_str());
    std::printf("schema: version %d\n", version);
    if (version == 0) return 1;
    auto o = db::readOverview(*conn);
    std::printf("projects: %lld, jobsets: %lld, users: %lld\n", o.projects, o.jobsets, o.users);
    std::printf("builds: %lld queued, %lld finished\n", o.queuedBuilds, o.finishedBuilds);
    for (const auto& line : Daemons(site.dataDir(), Daemons::selfDir()).status())
        std::printf("%s\n", line.c_str());
    return 0;
}

} // namespace hydra::cli
