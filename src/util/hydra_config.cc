#include "util/hydra_config.hh"

#include "util/error.hh"
#include "util/logging.hh"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>
#include <unistd.h>

namespace hydra {

namespace {

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

[[noreturn]] void badValue(const ConfigEntry& e, std::string_view expected)
{
    throw Error("{}: {} = '{}': expected {}", e.loc.str(), e.key, e.value, expected);
}

bool parseBool(const ConfigEntry& e)
{
    auto v = lower(e.value);
    if (v == "1" || v == "true" || v == "yes") return true;
    if (v == "0" || v == "false" || v == "no") return false;
    badValue(e, "a boolean (1, 0, true, false, yes or no)");
}

// Digits only; nullopt on anything else or on overflow.
std::optional<uint64_t> parseDigits(std::string_view s)
{
    if (s.empty() || s.size() > 20) return std::nullopt;
    uint64_t n = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        auto digit = static_cast<uint64_t>(c - '0');
        if (n > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
        n = n * 10 + digit;
    }
    return n;
}

uint64_t parseUnsigned(const ConfigEntry& e, uint64_t min, uint64_t max)
{
    auto n = parseDigits(e.value);
    if (n && *n >= min && *n <= max) return *n;
    if (max != std::numeric_limits<uint64_t>::max())
        badValue(e, fmt::format("a whole number from {} to {}", min, max));
    badValue(e, min > 0 ? fmt::format("a whole number of at least {}", min) : "a whole number");
}

// A duration in whole seconds, at least `min`; the bound keeps it within a time_t of any width.
std::chrono::seconds parseSeconds(const ConfigEntry& e, uint64_t min)
{
    return std::chrono::seconds(parseUnsigned(e, min, uint64_t(INT32_MAX)));
}

// Bytes, optionally with a binary suffix: 2147483648, 2G, 2GiB, 64m.
uint64_t parseSize(const ConfigEntry& e)
{
    std::string_view v = e.value;
    size_t digits = 0;
    while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
    auto suffix = lower(v.substr(digits));
    unsigned shift = 0;
    bool ok = true;
    if (!suffix.empty()) {
        static const std::string units = "kmgt";
        auto unit = units.find(suffix[0]);
        auto rest = suffix.substr(1);
        ok = unit != std::string::npos && (rest.empty() || rest == "ib" || rest == "b");
        shift = ok ? 10 * static_cast<unsigned>(unit + 1) : 0;
    }
    // Reading the optional once, by value_or, keeps GCC 12's -O2 flow analysis quiet.
    auto parsed = parseDigits(v.substr(0, digits));
    ok = ok && parsed.has_value();
    uint64_t value = parsed.value_or(0);
    if (!ok || (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)))
        badValue(e, "a size in bytes, optionally with a K, M, G or T suffix");
    return value << shift;
}

double parseBackoff(const ConfigEntry& e)
{
    char* end = nullptr;
    double d = std::strtod(e.value.c_str(), &end);
    if (e.value.empty() || *end != '\0' || !(d >= 1.0) || d > 1000.0) badValue(e, "a number from 1 to 1000");
    return d;
}

// host:port, host possibly a bracketed IPv6 address.
std::string parseListenAddress(const ConfigEntry& e)
{
    auto colon = e.value.rfind(':');
    bool ok = colon != std::string::npos && colon > 0;
    if (ok) {
        auto port = parseDigits(std::string_view(e.value).substr(colon + 1));
        ok = port && *port <= 65535;
    }
    if (!ok) badValue(e, "host:port (e.g. 127.0.0.1:9198 or [::]:9198)");
    return e.value;
}

std::vector<std::string> splitWords(std::string_view s)
{
    std::vector<std::string> words;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        size_t start = i;
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i > start) words.emplace_back(s.substr(start, i - start));
    }
    return words;
}

bool boolIn(const ConfigSection& s, std::string_view key)
{
    auto e = s.last(key);
    return e ? parseBool(*e) : false;
}

std::optional<RunCommandConfig> runCommandFrom(const ConfigSection& s, std::vector<std::string>& warnings)
{
    RunCommandConfig rc;
    rc.loc = s.loc;
    if (auto job = s.last("job")) {
        if (std::count(job->value.begin(), job->value.end(), ':') > 2)
            badValue(*job, "'project:jobset:job' with at most three parts, each a name or '*'");
        rc.job = job->value;
    }
    if (auto events = s.get("events")) rc.events = splitWords(*events);
    auto command = s.get("command");
    if (!command) {
        warnings.push_back(fmt::format(
            "{}: <runcommand> block for '{}' lacks a 'command' option; it is ignored", s.loc.str(), rc.job));
        return std::nullopt;
    }
    rc.command = *command;
    return rc;
}

std::optional<GithubStatusConfig> githubStatusFrom(const ConfigSection& s, std::vector<std::string>& warnings)
{
    GithubStatusConfig g;
    g.loc = s.loc;
    for (auto e : s.all("inputs")) g.inputs.push_back(e->value);
    g.context = s.get("context");
    g.description = s.get("description");
    g.authorization = s.get("authorization");
    g.excludeBuildFromContext = boolIn(s, "excludeBuildFromContext");
    g.useShortContext = boolIn(s, "useShortContext");
    auto jobs = s.get("jobs");
    if (!jobs) {
        warnings.push_back(
            fmt::format("{}: <githubstatus> block lacks a 'jobs' option; it is ignored", s.loc.str()));
        return std::nullopt;
    }
    g.jobs = *jobs;
    return g;
}

std::optional<SlackConfig> slackFrom(const ConfigSection& s, std::vector<std::string>& warnings)
{
    SlackConfig sl;
    sl.loc = s.loc;
    sl.force = boolIn(s, "force");
    auto jobs = s.get("jobs");
    auto url = s.get("url");
    if (!jobs || !url) {
        warnings.push_back(
            fmt::format("{}: <slack> block needs both 'jobs' and 'url' options; it is ignored", s.loc.str()));
        return std::nullopt;
    }
    sl.jobs = *jobs;
    sl.url = *url;
    return sl;
}

std::map<std::string, std::string> authorizationFrom(const ConfigSection& s)
{
    std::map<std::string, std::string> tokens;
    for (auto& e : s.entries) tokens[e.key] = e.value;
    return tokens;
}

// Keys Hydra's other parts (web server, login plugins...) read; known, so never warned about.
const std::set<std::string, std::less<>> untypedKnownKeys = {
    "using_frontend_proxy",
    "tracker",
    "hydra_logo",
    "enable_google_login",
    "google_client_id",
    "enable_github_login",
    "github_client_id",
    "github_client_secret",
    "github_client_secret_file",
    "github_endpoint", // read by the GitHubStatus plugin from the raw tree
    "ws_endpoint",
    "nar_buffer_size",
};

// Turns the parsed tree into typed settings, remembering which keys it understood.
class Builder {
public:
    explicit Builder(HydraConfig& out) : out_(out), root_(out.raw) {}

    void build();

private:
    const ConfigEntry* take(std::string_view key);
    template <typename F> void with(std::string_view key, F&& apply);
    void warn(std::string msg) { out_.warnings.push_back(std::move(msg)); }

    void readQueueRunner();
    void readEvaluator();
    void readNotify();
    void readPluginBlocks();
    void readWeb();
    void readDeprecated();
    void warnAboutUnknownKeys();

    HydraConfig& out_;
    const ConfigSection& root_;
    std::set<std::string, std::less<>> known_;
};

// The last value of a top-level key, warning when an earlier one is overridden.
const ConfigEntry* Builder::take(std::string_view key)
{
    known_.emplace(key);
    auto all = root_.all(key);
    if (all.empty()) return nullptr;
    if (all.size() > 1)
        warn(fmt::format("{}: {} is set again (first at {}); the last value is used", all.back()->loc.str(),
                         key, all.front()->loc.str()));
    return all.back();
}

template <typename F> void Builder::with(std::string_view key, F&& apply)
{
    if (auto e = take(key)) apply(*e);
}

void Builder::readQueueRunner()
{
    auto& q = out_.queueRunner;
    constexpr uint64_t uintMax = std::numeric_limits<unsigned>::max();
    with("max_db_connections", [&](auto& e) { q.maxDbConnections = unsigned(parseUnsigned(e, 1, uintMax)); });
    with("max_output_size", [&](auto& e) { q.maxOutputSize = parseSize(e); });
    with("max_log_size", [&](auto& e) { q.maxLogSize = parseSize(e); });
    with("max_unsupported_time", [&](auto& e) { q.maxUnsupportedTime = parseSeconds(e, 0); });
    with("store_uri", [&](auto& e) { q.storeUri = e.value; });
    with("server_store_uri", [&](auto& e) { q.serverStoreUri = e.value; });
    with("use-substitutes", [&](auto& e) { q.useSubstitutes = parseBool(e); });
    with("gc_roots_dir", [&](auto& e) { q.gcRootsDir = e.value; });
    with("gc_roots_interval", [&](auto& e) { q.gcRootsInterval = parseSeconds(e, 0); });
    with("queue_runner_metrics_address", [&](auto& e) { q.metricsAddress = parseListenAddress(e); });
    with("max_local_worker_threads",
         [&](auto& e) { q.maxLocalWorkerThreads = unsigned(parseUnsigned(e, 1, 1024)); });
    with("upload_logs_to_binary_cache", [&](auto& e) { q.uploadLogsToBinaryCache = parseBool(e); });
    with("max_tries", [&](auto& e) { q.maxTries = unsigned(parseUnsigned(e, 1, 1000)); });
    with("retry_interval", [&](auto& e) { q.retryInterval = parseSeconds(e, 0); });
    with("retry_backoff", [&](auto& e) { q.retryBackoff = parseBackoff(e); });
    with("xxx-jobset-repeats", [&](auto& e) { q.jobsetRepeats = e.value; });
    with("session_max_idle", [&](auto& e) { q.sessionMaxIdle = parseSeconds(e, 0); });
    with("session_max_age", [&](auto& e) { q.sessionMaxAge = parseSeconds(e, 1); });
    with("queue_monitor_interval", [&](auto& e) { q.queueMonitorInterval = parseSeconds(e, 1); });
}

void Builder::readEvaluator()
{
    auto& ev = out_.evaluator;
    constexpr uint64_t uintMax = std::numeric_limits<unsigned>::max();
    with("max_concurrent_evals",
         [&](auto& e) { ev.maxConcurrentEvals = unsigned(parseUnsigned(e, 1, uintMax)); });
    with("evaluator_workers", [&](auto& e) { ev.workers = unsigned(parseUnsigned(e, 1, 1024)); });
    with("evaluator_max_memory_size", [&](auto& e) {
        ev.maxMemorySizeMiB = parseUnsigned(e, 1, std::numeric_limits<uint64_t>::max() >> 20);
    });
    with("evaluator_initial_heap_size", [&](auto& e) { ev.initialHeapSize = parseSize(e); });
    with("allow_import_from_derivation", [&](auto& e) { ev.allowImportFromDerivation = parseBool(e); });
    with("evaluator_pure_eval", [&](auto& e) { ev.pureEval = parseBool(e); });
    with("evaluator_restrict_eval", [&](auto& e) { ev.restrictEval = parseBool(e); });
    with("evaluator_timeout", [&](auto& e) { ev.timeout = parseSeconds(e, 1); });
}

void Builder::readNotify()
{
    auto& n = out_.notify;
    constexpr uint64_t uintMax = std::numeric_limits<unsigned>::max();
    with("max_concurrent_notifications",
         [&](auto& e) { n.maxConcurrentNotifications = unsigned(parseUnsigned(e, 1, uintMax)); });
    with("compress_build_logs", [&](auto& e) { n.compressBuildLogs = parseBool(e); });
    with("compress_build_logs_silent", [&](auto& e) { n.compressBuildLogsSilent = parseBool(e); });
    with("compress_build_logs_compression", [&](auto& e) {
        if (e.value == "bzip2")
            n.compression = LogCompression::Bzip2;
        else if (e.value == "zstd")
            n.compression = LogCompression::Zstd;
        else
            badValue(e, "bzip2 or zstd");
    });
    with("email_notification", [&](auto& e) { n.emailNotification = parseBool(e); });
    with("notification_sender", [&](auto& e) { n.notificationSender = e.value; });
}

void Builder::readWeb()
{
    auto& w = out_.web;
    with("log_prefix", [&](auto& e) { w.logPrefix = e.value; });
    with("binary_cache_public_uri", [&](auto& e) { w.binaryCachePublicUri = e.value; });
    // hydra-server signs the narinfo files of the store it serves as a binary cache with it.
    with("binary_cache_secret_key_file", [&](auto& e) { w.binaryCacheSecretKeyFile = e.value; });
    with("private", [&](auto& e) { w.isPrivate = parseBool(e); });
    with("base_uri", [&](auto& e) {
        if (!e.value.starts_with("http://") && !e.value.starts_with("https://") && !e.value.starts_with("/"))
            badValue(e, "an http:// or https:// URL, or a path starting with /");
        w.baseUri = e.value;
    });
    with("queue_runner_endpoint", [&](auto& e) {
        if (!e.value.starts_with("http://") && !e.value.starts_with("https://"))
            badValue(e, "an http:// or https:// URL");
        w.queueRunnerEndpoint = e.value;
    });
}

void Builder::readDeprecated()
{
    if (auto e = take("store_mode"))
        throw Error("{}: store_mode is no longer supported: use store_uri instead", e->loc.str());
    for (std::string_view key : {"binary_cache_dir", "binary_cache_s3_bucket"})
        with(key, [&](auto& e) {
            warn(fmt::format("{}: {} is deprecated and ignored: set store_uri instead", e.loc.str(), key));
        });
}

void Builder::warnAboutUnknownKeys()
{
    for (auto& e : root_.entries)
        if (!known_.contains(e.key) && !untypedKnownKeys.contains(e.key))
            warn(fmt::format("{}: unknown key '{}' (ignored)", e.loc.str(), e.key));
}

void Builder::build()
{
    readDeprecated();
    readQueueRunner();
    readEvaluator();
    readNotify();
    readPluginBlocks();
    readWeb();
    warnAboutUnknownKeys();
}

void Builder::readPluginBlocks()
{
    auto& n = out_.notify;
    for (auto s : root_.blocks("runcommand"))
        if (auto rc = runCommandFrom(*s, out_.warnings)) n.runCommands.push_back(std::move(*rc));
    if (auto s = root_.block("dynamicruncommand")) n.dynamicRunCommand = boolIn(*s, "enable");
    for (auto s : root_.blocks("githubstatus"))
        if (auto g = githubStatusFrom(*s, out_.warnings)) n.githubStatus.push_back(std::move(*g));
    for (auto s : root_.blocks("slack"))
        if (auto sl = slackFrom(*s, out_.warnings)) n.slack.push_back(std::move(*sl));
    for (auto s : root_.blocks("github_authorization"))
        for (auto& [owner, token] : authorizationFrom(*s)) n.githubAuthorization[owner] = token;
    for (auto s : root_.blocks("gitea_authorization"))
        for (auto& [owner, token] : authorizationFrom(*s)) n.giteaAuthorization[owner] = token;
    if (auto s = root_.block("influxdb")) {
        auto url = s->get("url");
        auto db = s->get("db");
        if (url && db)
            n.influxdb = InfluxDbConfig{*url, *db, s->loc};
        else
            warn(fmt::format("{}: <influxdb> block needs both 'url' and 'db' options; it is ignored",
                             s->loc.str()));
    }
}

} // namespace

unsigned QueueRunnerConfig::effectiveLocalWorkerThreads(unsigned hardwareThreads) const
{
    if (maxLocalWorkerThreads) return *maxLocalWorkerThreads;
    return std::min(1024u, std::max(4u, hardwareThreads) - 2);
}

std::optional<std::string> systemEnv(std::string_view name)
{
    auto v = std::getenv(std::string(name).c_str());
    return v ? std::optional<std::string>(v) : std::nullopt;
}

HydraConfig HydraConfig::fromTree(ConfigSection tree, const std::string& path)
{
    HydraConfig config;
    config.raw = std::move(tree);
    config.path = path;
    Builder(config).build();
    for (auto& w : config.warnings) log::warn("{}", w);
    return config;
}

HydraConfig HydraConfig::load(const std::string& path)
{
    return fromTree(parseConfigFile(path), path);
}

std::string hydraDataDir(const EnvLookup& env)
{
    if (auto data = env("HYDRA_DATA"); data && !data->empty()) return *data;
    if (::geteuid() == 0) return "/var/lib/hydra";
    auto home = env("HOME");
    if (!home || home->empty()) throw Error("HYDRA_DATA is not set and neither is HOME");
    return *home + "/.local/share/hydra";
}

std::string hydraConfigPath(const EnvLookup& env)
{
    if (auto c = env("HYDRA_CONFIG"); c && !c->empty()) return *c;
    return hydraDataDir(env) + "/hydra.conf";
}

HydraConfig HydraConfig::fromEnvironment(const EnvLookup& env)
{
    auto path = hydraConfigPath(env);
    HydraConfig config;
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec)) {
        config = load(path);
    } else if (auto explicitPath = env("HYDRA_CONFIG"); explicitPath && !explicitPath->empty()) {
        config.warnings.push_back(
            fmt::format("HYDRA_CONFIG names {}, which is not a readable file; using the defaults", path));
        log::warn("{}", config.warnings.back());
    }
    config.notify.smtp = smtpFromEnvironment(env);
    return config;
}

SmtpSettings smtpFromEnvironment(const EnvLookup& env)
{
    SmtpSettings smtp;
    auto get = [&](std::string_view suffix) {
        return env(std::string("EMAIL_SENDER_TRANSPORT") + std::string(suffix)).value_or("");
    };
    smtp.transport = get("");
    smtp.host = get("_host");
    smtp.ssl = get("_ssl");
    smtp.helo = get("_helo");
    smtp.saslUsername = get("_sasl_username");
    smtp.saslPassword = get("_sasl_password");
    if (auto port = get("_port"); !port.empty()) {
        auto n = parseDigits(port);
        if (!n || *n == 0 || *n > 65535)
            throw Error("environment: EMAIL_SENDER_TRANSPORT_port = '{}': expected a port from 1 to 65535",
                        port);
        smtp.port = static_cast<uint16_t>(*n);
    }
    return smtp;
}

} // namespace hydra
