#pragma once
// hydra.conf read once at start-up into typed, validated settings with Hydra's defaults.
//
// Every key reads its LAST value (as Hydra's C++ daemons do). Values are checked here, so a
// daemon never meets a malformed setting later: a bad value throws Error naming file:line,
// the key and what was expected. Keys this project does not know produce a warning.

#include "util/config_file.hh"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hydra {

/// One `<runcommand>` block: the jobs it applies to and the shell command to run.
struct RunCommandConfig {
    std::string job = "*:*:*"; // project:jobset:job, each part a name or '*'
    std::vector<std::string> events{"buildFinished"};
    std::string command;
    ConfigLocation loc;
};

/// One `<githubstatus>` block: which jobs report commit statuses to GitHub, and how.
struct GithubStatusConfig {
    std::string jobs;                // regular expression over "project:jobset:job"
    std::vector<std::string> inputs; // jobset inputs whose revisions get a status
    std::optional<std::string> context;
    std::optional<std::string> description;
    std::optional<std::string> authorization;
    bool excludeBuildFromContext = false;
    bool useShortContext = false;
    ConfigLocation loc;
};

/// One `<slack>` block: a webhook that hears about finished builds of matching jobs.
struct SlackConfig {
    std::string jobs;
    std::string url;
    bool force = false;
    ConfigLocation loc;
};

/// The `<influxdb>` block: where build metrics are written.
struct InfluxDbConfig {
    std::string url;
    std::string db;
    ConfigLocation loc;
};

/// Mail transport, from Email::Sender's EMAIL_SENDER_TRANSPORT* variables as Hydra uses them.
struct SmtpSettings {
    std::string transport; // "SMTP", or empty for the local sendmail
    std::string host;
    std::optional<uint16_t> port;
    std::string ssl; // "", "ssl", "starttls", "1"...
    std::string helo;
    std::string saslUsername;
    std::string saslPassword;
};

/// Log compression applied by the notifier once a step's log is complete.
enum class LogCompression { Bzip2, Zstd };

/// Settings read by the queue runner.
struct QueueRunnerConfig {
    unsigned maxDbConnections = 128;
    uint64_t maxOutputSize = 2ULL << 30;
    uint64_t maxLogSize = 64ULL << 20;
    std::chrono::seconds maxUnsupportedTime{0}; // 0: abort unsupported steps at once
    std::string storeUri;                       // empty: the local store
    std::optional<std::string> serverStoreUri;  // store the web server reads from
    bool useSubstitutes = false;
    std::optional<std::string> gcRootsDir;      // unset: <nix state>/gcroots/per-user/$LOGNAME/hydra-roots
    std::chrono::seconds gcRootsInterval{3600}; // ours: how often unneeded roots are removed; 0: never
    std::string metricsAddress = "127.0.0.1:9198";
    std::optional<unsigned> maxLocalWorkerThreads; // unset: see effectiveLocalWorkerThreads()
    bool uploadLogsToBinaryCache = false;
    unsigned maxTries = 5;
    std::chrono::seconds retryInterval{60};
    double retryBackoff = 3.0;
    std::string jobsetRepeats; // xxx-jobset-repeats, "project:jobset:n ..."
    /// Ours: how long a nix-store session (local or with a machine) may sit unused before it
    /// ends (session_max_idle; 0: none is kept), and how long one may live at most
    /// (session_max_age): an open local session holds Nix's store lock.
    std::chrono::seconds sessionMaxIdle{60};
    std::chrono::seconds sessionMaxAge{600};
    /// Ours: how often the queue monitor compares its queue with the database (queued builds
    /// no notification announced, builds finished or cancelled behind its back).
    std::chrono::seconds queueMonitorInterval{30};

    /// Hydra's default when max_local_worker_threads is unset: max(4, cores) - 2, at most 1024.
    unsigned effectiveLocalWorkerThreads(unsigned hardwareThreads) const;
};

/// Settings read by the evaluator.
struct EvaluatorConfig {
    unsigned maxConcurrentEvals = 4;
    unsigned workers = 1;
    uint64_t maxMemorySizeMiB = 4096;        // a worker restarts above this (MiB, as in Hydra)
    std::optional<uint64_t> initialHeapSize; // bytes, passed on as GC_INITIAL_HEAP_SIZE
    bool allowImportFromDerivation = true;
    std::optional<bool> pureEval;           // unset: pure for flakes only
    bool restrictEval = true;               // jobsets read only their inputs, as in Hydra
    std::chrono::seconds timeout{6 * 3600}; // evaluator_timeout: one evaluation's longest run
};

/// Settings read by the notifier and its plugins.
struct NotifyConfig {
    unsigned maxConcurrentNotifications = 2;
    bool compressBuildLogs = true;
    LogCompression compression = LogCompression::Bzip2;
    bool compressBuildLogsSilent = false;
    std::vector<RunCommandConfig> runCommands;
    /// <dynamicruncommand> enable = 1: RunCommand also runs the executables that jobs named
    /// runCommandHook.* build, in projects and jobsets that enable it too.
    bool dynamicRunCommand = false;
    bool emailNotification = false;
    std::optional<std::string> notificationSender;
    SmtpSettings smtp;
    std::vector<GithubStatusConfig> githubStatus;
    std::map<std::string, std::string> githubAuthorization; // owner -> Authorization header
    std::map<std::string, std::string> giteaAuthorization;  // owner -> token
    std::vector<SlackConfig> slack;
    std::optional<InfluxDbConfig> influxdb;
};

/// Settings read by the web front end.
struct WebConfig {
    std::optional<std::string> baseUri;
    std::optional<std::string> logPrefix;
    std::optional<std::string> binaryCachePublicUri;
    std::optional<std::string> binaryCacheSecretKeyFile; ///< signs the narinfo hydra-server serves
    bool isPrivate = false;                              // key `private`: every page requires a login
    /// Where the queue runner serves /status and /status/machines (http:// or https:// URL).
    std::optional<std::string> queueRunnerEndpoint;
};

/// Looks up an environment variable; replaceable in tests.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

/// The process environment.
std::optional<std::string> systemEnv(std::string_view name);

/// The state directory, for every program: HYDRA_DATA, else /var/lib/hydra for root and
/// $HOME/.local/share/hydra for anyone else. Throws Error when neither HYDRA_DATA nor HOME is
/// set for a user other than root.
std::string hydraDataDir(const EnvLookup& env = systemEnv);

/// Everything hydra.conf says, typed and checked, plus the raw tree for plugin details.
struct HydraConfig {
    QueueRunnerConfig queueRunner;
    EvaluatorConfig evaluator;
    NotifyConfig notify;
    WebConfig web;

    /// The parsed file: plugins read their own blocks from here.
    ConfigSection raw;
    /// The file read, or empty when defaults were used.
    std::string path;
    /// Warnings (unknown keys, deprecated keys, ignored blocks), each "file:line: ...".
    std::vector<std::string> warnings;

    /// Reads and checks `path` (and what it includes). Warnings are logged and collected.
    static HydraConfig load(const std::string& path);

    /// Reads $HYDRA_CONFIG, else hydra.conf in the state directory (hydraDataDir). As in Hydra, a file that
    /// does not exist means all defaults; SMTP settings come from EMAIL_SENDER_TRANSPORT*.
    static HydraConfig fromEnvironment(const EnvLookup& env = systemEnv);

    /// Checks an already parsed tree; `path` names it in messages.
    static HydraConfig fromTree(ConfigSection tree, const std::string& path);
};

/// The hydra.conf that fromEnvironment() reads.
std::string hydraConfigPath(const EnvLookup& env = systemEnv);

/// SMTP settings from EMAIL_SENDER_TRANSPORT, EMAIL_SENDER_TRANSPORT_host, _port, _ssl,
/// _helo, _sasl_username and _sasl_password.
SmtpSettings smtpFromEnvironment(const EnvLookup& env = systemEnv);

} // namespace hydra
