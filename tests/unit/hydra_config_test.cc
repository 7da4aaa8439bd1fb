#include "util/error.hh"
#include "util/hydra_config.hh"

#include "support/temp_files.hh"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>

using namespace hydra;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

HydraConfig fromText(const std::string& text)
{
    return HydraConfig::fromTree(parseConfigText(text, "hydra.conf"), "hydra.conf");
}

std::string errorOf(const std::string& text)
{
    try {
        fromText(text);
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

std::string dataDir()
{
    return std::string(HYDRA_SOURCE_DIR) + "/tests/data/config";
}

// A private directory for configuration files, removed afterwards.
class HydraConfigFiles : public hydra::test::TempFilesTest {
protected:
    EnvLookup env(std::map<std::string, std::string> vars)
    {
        return [vars](std::string_view name) -> std::optional<std::string> {
            auto i = vars.find(std::string(name));
            return i == vars.end() ? std::nullopt : std::optional<std::string>(i->second);
        };
    }
};

} // namespace

TEST(HydraConfig, DefaultsMatchHydra)
{
    auto c = fromText("");
    EXPECT_EQ(c.queueRunner.maxDbConnections, 128u);
    EXPECT_EQ(c.queueRunner.maxOutputSize, 2ULL * 1024 * 1024 * 1024);
    EXPECT_EQ(c.queueRunner.maxLogSize, 64ULL * 1024 * 1024);
    EXPECT_EQ(c.queueRunner.maxUnsupportedTime, 0s);
    EXPECT_EQ(c.queueRunner.storeUri, "");
    EXPECT_EQ(c.queueRunner.serverStoreUri, std::nullopt);
    EXPECT_FALSE(c.queueRunner.useSubstitutes);
    EXPECT_EQ(c.queueRunner.gcRootsDir, std::nullopt);
    EXPECT_EQ(c.queueRunner.metricsAddress, "127.0.0.1:9198");
    EXPECT_EQ(c.queueRunner.maxLocalWorkerThreads, std::nullopt);
    EXPECT_FALSE(c.queueRunner.uploadLogsToBinaryCache);
    EXPECT_EQ(c.queueRunner.maxTries, 5u);
    EXPECT_EQ(c.queueRunner.retryInterval, 60s);
    EXPECT_EQ(c.queueRunner.retryBackoff, 3.0);

    EXPECT_EQ(c.evaluator.maxConcurrentEvals, 4u);
    EXPECT_EQ(c.evaluator.workers, 1u);
    EXPECT_EQ(c.evaluator.maxMemorySizeMiB, 4096u);
    EXPECT_EQ(c.evaluator.initialHeapSize, std::nullopt);
    EXPECT_TRUE(c.evaluator.allowImportFromDerivation);
    EXPECT_EQ(c.evaluator.pureEval, std::nullopt);
    EXPECT_TRUE(c.evaluator.restrictEval);
    EXPECT_EQ(c.evaluator.timeout, 6h);

    EXPECT_EQ(c.notify.maxConcurrentNotifications, 2u);
    EXPECT_TRUE(c.notify.compressBuildLogs);
    EXPECT_EQ(c.notify.compression, LogCompression::Bzip2);
    EXPECT_FALSE(c.notify.compressBuildLogsSilent);
    EXPECT_TRUE(c.notify.runCommands.empty());
    EXPECT_FALSE(c.notify.emailNotification);
    EXPECT_EQ(c.notify.notificationSender, std::nullopt);
    EXPECT_TRUE(c.notify.githubStatus.empty());
    EXPECT_TRUE(c.notify.giteaAuthorization.empty());
    EXPECT_TRUE(c.notify.slack.empty());
    EXPECT_EQ(c.notify.influxdb, std::nullopt);

    EXPECT_EQ(c.web.baseUri, std::nullopt);
    EXPECT_EQ(c.web.logPrefix, std::nullopt);
    EXPECT_EQ(c.web.binaryCachePublicUri, std::nullopt);
    EXPECT_FALSE(c.web.isPrivate);
    EXPECT_TRUE(c.warnings.empty());
}

TEST(HydraConfig, LocalWorkerThreadsDefaultFollowsTheCores)
{
    QueueRunnerConfig q;
    EXPECT_EQ(q.effectiveLocalWorkerThreads(2), 2u);
    EXPECT_EQ(q.effectiveLocalWorkerThreads(16), 14u);
    EXPECT_EQ(q.effectiveLocalWorkerThreads(4096), 1024u);
    q.maxLocalWorkerThreads = 144;
    EXPECT_EQ(q.effectiveLocalWorkerThreads(2), 144u);
}

TEST(HydraConfig, ProductionStyleFileWithIncludedSecrets)
{
    auto c = HydraConfig::load(dataDir() + "/production.conf");
    EXPECT_EQ(c.warnings, std::vector<std::string>{});
    EXPECT_EQ(c.web.baseUri, "https://hydra.example.org");
    EXPECT_FALSE(c.web.isPrivate);
    EXPECT_EQ(c.web.logPrefix, "https://cache.example.org/");
    EXPECT_EQ(c.web.binaryCachePublicUri, "https://cache.example.org");
    EXPECT_EQ(c.queueRunner.storeUri,
              "s3://example-cache?secret-key=/run/keys/cache-key&write-nar-listing=1");
    EXPECT_EQ(c.queueRunner.serverStoreUri,
              "https://cache.example.org?local-nar-cache=/var/cache/hydra/nar-cache");
    EXPECT_TRUE(c.queueRunner.uploadLogsToBinaryCache);
    EXPECT_TRUE(c.queueRunner.useSubstitutes);
    EXPECT_EQ(c.queueRunner.maxLocalWorkerThreads, 16u);
    EXPECT_EQ(c.queueRunner.maxUnsupportedTime, 86400s);
    EXPECT_EQ(c.queueRunner.maxOutputSize, 3821225472u);
    EXPECT_EQ(c.queueRunner.maxDbConnections, 350u);
    EXPECT_EQ(c.queueRunner.metricsAddress, "[::]:9198");
    EXPECT_EQ(c.queueRunner.jobsetRepeats, "nixos:reproducibility:1");
    EXPECT_FALSE(c.notify.compressBuildLogs);
    EXPECT_TRUE(c.notify.emailNotification);
    EXPECT_EQ(c.notify.notificationSender, "hydra@example.org");
    EXPECT_EQ(c.evaluator.workers, 8u);
    EXPECT_EQ(c.evaluator.maxMemorySizeMiB, 4096u);
    EXPECT_EQ(c.evaluator.initialHeapSize, 1073741824u);
    EXPECT_EQ(c.evaluator.maxConcurrentEvals, 1u);
    EXPECT_FALSE(c.evaluator.allowImportFromDerivation);

    ASSERT_EQ(c.notify.runCommands.size(), 2u);
    EXPECT_EQ(c.notify.runCommands[0].job, "nixos:*:tested");
    EXPECT_EQ(c.notify.runCommands[0].command, "/run/current-system/sw/bin/notify-release");
    EXPECT_EQ(c.notify.runCommands[1].job, "*:*:*");
    EXPECT_EQ(c.notify.runCommands[1].command, "logger \"hydra build finished\"");
    EXPECT_EQ(c.notify.runCommands[1].events, std::vector<std::string>{"buildFinished"});

    ASSERT_EQ(c.notify.githubStatus.size(), 2u);
    EXPECT_EQ(c.notify.githubStatus[0].jobs, "example:pulls:.*");
    EXPECT_TRUE(c.notify.githubStatus[0].excludeBuildFromContext);
    EXPECT_FALSE(c.notify.githubStatus[0].useShortContext);
    EXPECT_EQ(c.notify.githubStatus[1].inputs, (std::vector<std::string>{"src", "docs"}));
    EXPECT_TRUE(c.notify.githubStatus[1].useShortContext);

    // The tokens come from the file included relative to production.conf.
    EXPECT_EQ(c.notify.githubAuthorization.at("example"), "Bearer not-a-real-token");
    EXPECT_EQ(c.notify.giteaAuthorization.at("someone"), "also-not-real");

    // Blocks this struct does not type stay readable for their plugins.
    auto prom = c.raw.block("hydra_notify")->block("prometheus");
    ASSERT_NE(prom, nullptr);
    EXPECT_EQ(prom->get("port"), "9199");
    EXPECT_EQ(c.raw.block("Plugin::Session")->get("cache_size"), "32m");
}

TEST(HydraConfig, SizesAcceptBytesAndBinarySuffixes)
{
    auto c =
        fromText("max_output_size = 4294967296\nmax_log_size = 64M\nevaluator_initial_heap_size = 1GiB\n");
    EXPECT_EQ(c.queueRunner.maxOutputSize, 4ULL << 30);
    EXPECT_EQ(c.queueRunner.maxLogSize, 64ULL << 20);
    EXPECT_EQ(c.evaluator.initialHeapSize, 1ULL << 30);
    EXPECT_EQ(fromText("max_log_size = 512k\n").queueRunner.maxLogSize, 512u * 1024);
    EXPECT_EQ(fromText("max_log_size = 2tb\n").queueRunner.maxLogSize, 2ULL << 40);
    EXPECT_EQ(fromText("max_log_size = 0\n").queueRunner.maxLogSize, 0u);

    const std::string expected = "expected a size in bytes, optionally with a K, M, G or T suffix";
    EXPECT_EQ(errorOf("max_output_size = 2 GiB\n"), "hydra.conf:1: max_output_size = '2 GiB': " + expected);
    EXPECT_EQ(errorOf("\nmax_log_size = lots\n"), "hydra.conf:2: max_log_size = 'lots': " + expected);
    EXPECT_EQ(errorOf("max_log_size = 1X\n"), "hydra.conf:1: max_log_size = '1X': " + expected);
    EXPECT_EQ(errorOf("max_log_size = -1\n"), "hydra.conf:1: max_log_size = '-1': " + expected);
    EXPECT_EQ(errorOf("max_log_size = 99999999999T\n"),
              "hydra.conf:1: max_log_size = '99999999999T': " + expected);
    EXPECT_EQ(errorOf("max_log_size =\n"), "hydra.conf:1: max_log_size = '': " + expected);
}

TEST(HydraConfig, Booleans)
{
    for (auto t : {"1", "true", "TRUE", "yes", "Yes"}) {
        EXPECT_TRUE(fromText(std::string("use-substitutes = ") + t + "\n").queueRunner.useSubstitutes) << t;
        EXPECT_FALSE(fromText(std::string("allow_import_from_derivation = ") + t + "\n").warnings.size())
            << t;
    }
    for (auto f : {"0", "false", "False", "no", "NO"}) {
        EXPECT_FALSE(fromText(std::string("compress_build_logs ") + f + "\n").notify.compressBuildLogs) << f;
        EXPECT_FALSE(fromText(std::string("evaluator_restrict_eval = ") + f + "\n").evaluator.restrictEval)
            << f;
    }
    EXPECT_EQ(errorOf("private = maybe\n"),
              "hydra.conf:1: private = 'maybe': expected a boolean (1, 0, true, false, yes or no)");
    EXPECT_EQ(errorOf("<githubstatus>\njobs = .*\nuseShortContext = on\n</githubstatus>\n"),
              "hydra.conf:3: useShortContext = 'on': expected a boolean (1, 0, true, false, yes or no)");
}

TEST(HydraConfig, IntegersAreCheckedWithTheirBounds)
{
    EXPECT_EQ(fromText("evaluator_timeout = 600\n").evaluator.timeout, 600s);
    EXPECT_EQ(errorOf("evaluator_timeout = 0\n"),
              "hydra.conf:1: evaluator_timeout = '0': expected a whole number from 1 to 2147483647");
    EXPECT_EQ(errorOf("max_db_connections = 12x\n"),
              "hydra.conf:1: max_db_connections = '12x': expected a whole number from 1 to 4294967295");
    EXPECT_EQ(errorOf("max_concurrent_evals = 0\n"),
              "hydra.conf:1: max_concurrent_evals = '0': expected a whole number from 1 to 4294967295");
    EXPECT_EQ(errorOf("evaluator_workers = 5000\n"),
              "hydra.conf:1: evaluator_workers = '5000': expected a whole number from 1 to 1024");
    EXPECT_EQ(errorOf("max_unsupported_time = 1h\n"),
              "hydra.conf:1: max_unsupported_time = '1h': expected a whole number from 0 to 2147483647");
    EXPECT_EQ(
        errorOf("max_db_connections = 99999999999999999999999\n"),
        "hydra.conf:1: max_db_connections = '99999999999999999999999': expected a whole number from 1 to "
        "4294967295");
    auto c = fromText(
        "max_tries = 7\nretry_interval = 30\nretry_backoff = 2.5\nmax_concurrent_notifications = 8\n");
    EXPECT_EQ(c.queueRunner.maxTries, 7u);
    EXPECT_EQ(c.queueRunner.retryInterval, 30s);
    EXPECT_EQ(c.queueRunner.retryBackoff, 2.5);
    EXPECT_EQ(c.notify.maxConcurrentNotifications, 8u);
    EXPECT_EQ(errorOf("retry_backoff = 0.5\n"),
              "hydra.conf:1: retry_backoff = '0.5': expected a number from 1 to 1000");
    EXPECT_EQ(fromText("").queueRunner.queueMonitorInterval, 30s);
    EXPECT_EQ(fromText("queue_monitor_interval = 5\n").queueRunner.queueMonitorInterval, 5s);
    // A look at the queue never due would be no look at all.
    EXPECT_EQ(errorOf("queue_monitor_interval = 0\n"),
              "hydra.conf:1: queue_monitor_interval = '0': expected a whole number from 1 to 2147483647");
}

TEST(HydraConfig, EnumsAndAddresses)
{
    EXPECT_EQ(fromText("compress_build_logs_compression = zstd\n").notify.compression, LogCompression::Zstd);
    EXPECT_EQ(fromText("compress_build_logs_compression = bzip2\n").notify.compression,
              LogCompression::Bzip2);
    EXPECT_EQ(errorOf("compress_build_logs_compression = gzip\n"),
              "hydra.conf:1: compress_build_logs_compression = 'gzip': expected bzip2 or zstd");
    EXPECT_EQ(fromText("queue_runner_metrics_address = 0.0.0.0:9000\n").queueRunner.metricsAddress,
              "0.0.0.0:9000");
    EXPECT_EQ(
        errorOf("queue_runner_metrics_address = localhost\n"),
        "hydra.conf:1: queue_runner_metrics_address = 'localhost': expected host:port (e.g. 127.0.0.1:9198 "
        "or [::]:9198)");
    EXPECT_EQ(
        errorOf("queue_runner_metrics_address = host:99999\n"),
        "hydra.conf:1: queue_runner_metrics_address = 'host:99999': expected host:port (e.g. 127.0.0.1:9198 "
        "or [::]:9198)");
}

TEST(HydraConfig, RunCommandBlocks)
{
    auto c = fromText("<runcommand>\n"
                      "  job = proj:*:*\n"
                      "  events = buildStarted  buildFinished\n"
                      "  command = echo one\n"
                      "</runcommand>\n"
                      "<runcommand>\n"
                      "  job = proj\n"
                      "</runcommand>\n"
                      "<runcommand>\n"
                      "  command = cat $HYDRA_JSON\n"
                      "</runcommand>\n");
    ASSERT_EQ(c.notify.runCommands.size(), 2u);
    EXPECT_EQ(c.notify.runCommands[0].job, "proj:*:*");
    EXPECT_EQ(c.notify.runCommands[0].events, (std::vector<std::string>{"buildStarted", "buildFinished"}));
    EXPECT_EQ(c.notify.runCommands[0].loc.str(), "hydra.conf:1");
    EXPECT_EQ(c.notify.runCommands[1].command, "cat $HYDRA_JSON");
    EXPECT_EQ(c.notify.runCommands[1].loc.str(), "hydra.conf:9");
    EXPECT_EQ(c.warnings,
              std::vector<std::string>{
                  "hydra.conf:6: <runcommand> block for 'proj' lacks a 'command' option; it is ignored"});
    EXPECT_EQ(
        errorOf("<runcommand>\njob = a:b:c:d\ncommand = x\n</runcommand>\n"),
        "hydra.conf:2: job = 'a:b:c:d': expected 'project:jobset:job' with at most three parts, each a name "
        "or '*'");
}

TEST(HydraConfig, NotificationPluginBlocks)
{
    auto c =
        fromText("<slack>\n jobs = p:j:.*\n url = https://hooks.example/1\n force = 1\n</slack>\n"
                 "<slack>\n jobs = .*\n</slack>\n"
                 "<influxdb>\n url = http://influx:8086\n db = hydra\n</influxdb>\n"
                 "<githubstatus>\n inputs = src\n</githubstatus>\n"
                 "<githubstatus>\n jobs = p:.*\n context = ci/x\n description = d\n authorization = token t\n"
                 "</githubstatus>\n");
    ASSERT_EQ(c.notify.slack.size(), 1u);
    EXPECT_EQ(c.notify.slack[0].url, "https://hooks.example/1");
    EXPECT_TRUE(c.notify.slack[0].force);
    ASSERT_TRUE(c.notify.influxdb.has_value());
    EXPECT_EQ(c.notify.influxdb->url, "http://influx:8086");
    EXPECT_EQ(c.notify.influxdb->db, "hydra");
    ASSERT_EQ(c.notify.githubStatus.size(), 1u);
    EXPECT_EQ(c.notify.githubStatus[0].context, "ci/x");
    EXPECT_EQ(c.notify.githubStatus[0].description, "d");
    EXPECT_EQ(c.notify.githubStatus[0].authorization, "token t");
    EXPECT_EQ(c.warnings,
              (std::vector<std::string>{
                  "hydra.conf:13: <githubstatus> block lacks a 'jobs' option; it is ignored",
                  "hydra.conf:6: <slack> block needs both 'jobs' and 'url' options; it is ignored",
              }));
    EXPECT_EQ(
        fromText("<influxdb>\nurl = http://x\n</influxdb>\n").warnings,
        std::vector<std::string>{"hydra.conf:1: <influxdb> block needs both 'url' and 'db' options; it is "
                                 "ignored"});
}

TEST(HydraConfig, UnknownTopLevelKeysWarnWithFileAndLine)
{
    auto c = fromText("base_uri = https://h\n"
                      "max_db_conections = 10\n"
                      "using_frontend_proxy 1\n"
                      "<some_plugin>\n"
                      "  anything = goes\n"
                      "</some_plugin>\n"
                      "colour = blue\n");
    EXPECT_EQ(c.warnings, (std::vector<std::string>{"hydra.conf:2: unknown key 'max_db_conections' (ignored)",
                                                    "hydra.conf:7: unknown key 'colour' (ignored)"}));
    EXPECT_EQ(c.queueRunner.maxDbConnections, 128u);
}

TEST(HydraConfig, RepeatedKeysUseTheLastValueAndWarn)
{
    auto c = fromText("max_db_connections = 10\nother = 1\nmax_db_connections = 20\n");
    EXPECT_EQ(c.queueRunner.maxDbConnections, 20u);
    EXPECT_EQ(c.warnings[0],
              "hydra.conf:3: max_db_connections is set again (first at hydra.conf:1); the last "
              "value is used");
}

TEST(HydraConfig, DeprecatedKeys)
{
    EXPECT_EQ(errorOf("x = 1\nstore_mode = direct\n"),
              "hydra.conf:2: store_mode is no longer supported: use store_uri instead");
    auto c = fromText("binary_cache_dir = /c\n");
    EXPECT_EQ(c.warnings, std::vector<std::string>{"hydra.conf:1: binary_cache_dir is deprecated and "
                                                   "ignored: set store_uri instead"});
}

TEST(HydraConfig, BinaryCacheSecretKeyFileSignsWhatTheWebServerServes)
{
    auto c = fromText("binary_cache_secret_key_file = /etc/hydra/cache.sec\n");
    EXPECT_TRUE(c.warnings.empty());
    EXPECT_EQ(c.web.binaryCacheSecretKeyFile, "/etc/hydra/cache.sec");
}

TEST_F(HydraConfigFiles, LoadResolvesIncludesAgainstTheIncludingFile)
{
    write("keys/secrets.conf",
          "<gitea_authorization>\n  bob = tok\n</gitea_authorization>\nmax_log_size = 1M\n");
    auto path = write("etc/hydra.conf", "include ../keys/secrets.conf\nweird = 1\n");
    auto c = HydraConfig::load(path);
    EXPECT_EQ(c.path, path);
    EXPECT_EQ(c.notify.giteaAuthorization.at("bob"), "tok");
    EXPECT_EQ(c.queueRunner.maxLogSize, 1u << 20);
    EXPECT_EQ(c.warnings, std::vector<std::string>{path + ":2: unknown key 'weird' (ignored)"});
}

TEST_F(HydraConfigFiles, ErrorsInIncludedFilesNameThatFile)
{
    auto inc = write("inc.conf", "\n\nmax_log_size = huge\n");
    auto path = write("hydra.conf", "include inc.conf\n");
    try {
        HydraConfig::load(path);
        FAIL() << "bad size accepted";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  inc + ":3: max_log_size = 'huge': expected a size in bytes, optionally "
                        "with a K, M, G or T suffix");
    }
}

TEST_F(HydraConfigFiles, EnvironmentChoosesTheFile)
{
    auto explicitPath = write("explicit.conf", "max_db_connections = 7\n");
    write("data/hydra.conf", "max_db_connections = 9\n");
    auto data = (dir / "data").string();

    auto c = HydraConfig::fromEnvironment(env({{"HYDRA_CONFIG", explicitPath}, {"HYDRA_DATA", data}}));
    EXPECT_EQ(c.queueRunner.maxDbConnections, 7u);
    EXPECT_EQ(c.path, explicitPath);

    c = HydraConfig::fromEnvironment(env({{"HYDRA_CONFIG", ""}, {"HYDRA_DATA", data}}));
    EXPECT_EQ(c.queueRunner.maxDbConnections, 9u);
    EXPECT_EQ(c.path, data + "/hydra.conf");

    // Without either, the state directory's: Hydra's for root, the user's own otherwise.
    auto fallback = hydraConfigPath(env({{"HOME", "/home/alice"}}));
    EXPECT_EQ(fallback,
              ::geteuid() == 0 ? "/var/lib/hydra/hydra.conf" : "/home/alice/.local/share/hydra/hydra.conf");
}

TEST(HydraDataDir, IsHydraDataElseHydrasDirectoryForRootElseTheUsersOwn)
{
    auto env = [](std::map<std::string, std::string> vars) -> EnvLookup {
        return [vars](std::string_view name) -> std::optional<std::string> {
            auto i = vars.find(std::string(name));
            return i == vars.end() ? std::nullopt : std::optional(i->second);
        };
    };
    EXPECT_EQ(hydraDataDir(env({{"HYDRA_DATA", "/srv/hydra"}, {"HOME", "/home/alice"}})), "/srv/hydra");
    if (::geteuid() == 0) {
        EXPECT_EQ(hydraDataDir(env({{"HOME", "/root"}})), "/var/lib/hydra");
    } else {
        EXPECT_EQ(hydraDataDir(env({{"HOME", "/home/alice"}})), "/home/alice/.local/share/hydra");
        EXPECT_THROW(hydraDataDir(env({})), Error);
    }
}

TEST_F(HydraConfigFiles, MissingFileMeansDefaults)
{
    auto c = HydraConfig::fromEnvironment(env({{"HYDRA_DATA", (dir / "empty").string()}}));
    EXPECT_EQ(c.path, "");
    EXPECT_EQ(c.queueRunner.maxDbConnections, 128u);
    EXPECT_TRUE(c.warnings.empty());

    auto missing = (dir / "nope.conf").string();
    c = HydraConfig::fromEnvironment(env({{"HYDRA_CONFIG", missing}}));
    EXPECT_EQ(c.evaluator.maxConcurrentEvals, 4u);
    EXPECT_EQ(c.warnings, std::vector<std::string>{"HYDRA_CONFIG names " + missing +
                                                   ", which is not a readable file; using the defaults"});
}

TEST_F(HydraConfigFiles, SmtpSettingsComeFromEmailSenderVariables)
{
    auto c = HydraConfig::fromEnvironment(env({{"HYDRA_DATA", dir.string()},
                                               {"EMAIL_SENDER_TRANSPORT", "SMTP"},
                                               {"EMAIL_SENDER_TRANSPORT_host", "smtp.example.org"},
                                               {"EMAIL_SENDER_TRANSPORT_port", "465"},
                                               {"EMAIL_SENDER_TRANSPORT_ssl", "starttls"},
                                               {"EMAIL_SENDER_TRANSPORT_sasl_username", "hydra"},
                                               {"EMAIL_SENDER_TRANSPORT_sasl_password", "pw"}}));
    EXPECT_EQ(c.notify.smtp.transport, "SMTP");
    EXPECT_EQ(c.notify.smtp.host, "smtp.example.org");
    EXPECT_EQ(c.notify.smtp.port, 465);
    EXPECT_EQ(c.notify.smtp.ssl, "starttls");
    EXPECT_EQ(c.notify.smtp.saslUsername, "hydra");
    EXPECT_EQ(c.notify.smtp.saslPassword, "pw");
    EXPECT_EQ(smtpFromEnvironment(env({})).port, std::nullopt);
    try {
        smtpFromEnvironment(env({{"EMAIL_SENDER_TRANSPORT_port", "smtp"}}));
        FAIL() << "bad port accepted";
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(),
                     "environment: EMAIL_SENDER_TRANSPORT_port = 'smtp': expected a port from 1 to 65535");
    }
}

TEST(HydraConfig, SessionLimits)
{
    auto defaults = fromText("").queueRunner;
    EXPECT_EQ(defaults.sessionMaxIdle, 60s);
    EXPECT_EQ(defaults.sessionMaxAge, 600s);
    auto q = fromText("session_max_idle = 0\nsession_max_age = 30\n").queueRunner;
    EXPECT_EQ(q.sessionMaxIdle, 0s); // no session is kept between uses
    EXPECT_EQ(q.sessionMaxAge, 30s);
    // A session too old before it started could never serve.
    EXPECT_EQ(errorOf("session_max_age = 0\n"),
              "hydra.conf:1: session_max_age = '0': expected a whole number from 1 to 2147483647");
}
