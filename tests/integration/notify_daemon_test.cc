// hydra-notify end to end with a real PostgreSQL: RunCommand's HYDRA_JSON and RunCommandLogs,
// failing and missing commands recorded as Hydra does and not retried, the empty job matcher,
// dynamic RunCommand hooks, builds pending at start-up, a slow command that does not hold up
// other builds, retries with back-off across a restart, kill -9 with 1,000 pending builds, bad
// input, SIGTERM.

#include "db/build_results.hh"
#include "db/private_cluster.hh"
#include "harness/notify_fixture.hh"
#include "harness/pg_fixture.hh"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <sys/wait.h>

using namespace hydra;
using namespace hydra::test;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

const std::string pendingSql = "SELECT count(*) FROM Builds WHERE notificationPendingSince IS NOT NULL";

class NotifyDaemonTest : public NotifyFixture {
protected:
    // A <runcommand> block for every finished build running `command`.
    void runCommand(const std::string& command, const std::string& job = "*:*:*")
    {
        addConfig("<runcommand>\n  job = " + job + "\n  command = " + command + "\n</runcommand>");
    }

    // The build ids a command appended to `file`, one a line, with how often each came.
    std::map<long long, int> idsIn(const std::string& file)
    {
        std::map<long long, int> out;
        std::istringstream in(readFile(file));
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) ++out[std::stoll(line)];
        return out;
    }

    size_t lines(const std::string& file)
    {
        auto text = readFile(file);
        return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    }

    // Appends the build id of HYDRA_JSON to `file`.
    static std::string appendBuildId(const std::string& file)
    {
        return "grep -o '\"build\":[0-9]*' \"$HYDRA_JSON\" | cut -d: -f2 >> " + file;
    }

    // Makes a RunCommand run fail before its command can start: the log directory is a file.
    void breakRunCommandLogs()
    {
        std::filesystem::remove_all(state_ + "/runcommand-logs");
        std::ofstream(state_ + "/runcommand-logs") << "";
    }

    // An executable script (with `perms`) that appends the "job" of HYDRA_JSON to state_/ran.
    std::string hookScript(const std::string& name,
                           std::filesystem::perms perms = std::filesystem::perms::owner_all)
    {
        std::filesystem::create_directories(state_ + "/hooks");
        auto path = state_ + "/hooks/" + name;
        std::ofstream(path) << "#!/bin/sh\ngrep -o '\"job\":\"[^\"]*\"' \"$HYDRA_JSON\" >> " + state_ +
                                   "/ran\n";
        std::filesystem::permissions(path, perms);
        return path;
    }

    // A finished build of `job` whose output "out" is `outPath` (build_finished sent).
    long long finishedBuildWithOut(const std::string& job, const std::string& outPath)
    {
        auto id = rows_->queueBuild(jobsetId_, job, "/nix/store/aaaa-" + job + ".drv", outPath);
        pqxx::work t(*conn_);
        db::SucceededBuild b;
        b.id = id;
        b.startTime = 1700000000;
        b.stopTime = 1700000010;
        EXPECT_TRUE(db::markSucceededBuild(t, b));
        t.commit();
        return id;
    }

    void enableDynamicRunCommand(bool project, bool jobset)
    {
        pqxx::work t(*conn_);
        t.exec_params("UPDATE Projects SET enable_dynamic_run_command = $1", project);
        t.exec_params("UPDATE Jobsets SET enable_dynamic_run_command = $1", jobset);
        t.commit();
    }

    // The jobs whose hooks ran, as `"job":"<name>"`, with how often each ran.
    std::map<std::string, int> hooksRan()
    {
        std::map<std::string, int> out;
        std::istringstream in(readFile(state_ + "/ran"));
        std::string line;
        while (std::getline(in, line)) ++out[line];
        return out;
    }
};

TEST_F(NotifyDaemonTest, RunCommandGetsHydraJsonAndIsLogged)
{
    runCommand("cp \"$HYDRA_JSON\" " + state_ + "/got.json; echo output-of-the-command", "p:js:*");
    runCommand("touch " + state_ + "/other-jobset-ran", "p:other:*");
    startNotify();
    auto id = finishedBuild("hello");
    waitForCount(pendingSql, 0);
    auto j = nlohmann::json::parse(readFile(state_ + "/got.json"));
    EXPECT_EQ(j["event"], "buildFinished");
    EXPECT_EQ(j["build"], id);
    EXPECT_EQ(j["finished"], true);
    EXPECT_EQ(j["project"], "p");
    EXPECT_EQ(j["jobset"], "js");
    EXPECT_EQ(j["job"], "hello");
    EXPECT_EQ(j["drvPath"], "/nix/store/aaaa-hello.drv");
    EXPECT_EQ(j["startTime"], 1700000000);
    EXPECT_EQ(j["stopTime"], 1700000010);
    EXPECT_EQ(j["buildStatus"], 0);
    EXPECT_EQ(j["nixName"], "hello");
    EXPECT_EQ(j["system"], "x86_64-linux");
    EXPECT_TRUE(j["homepage"].is_null());
    EXPECT_TRUE(j["timestamp"].is_number_integer());
    EXPECT_EQ(j["outputs"], nlohmann::json::parse(R"([{"name":"out","path":"/nix/store/bbbb-hello"}])"));
    EXPECT_EQ(j["products"], nlohmann::json::parse(R"([{"productNr":1,"type":"file","subtype":"binary-dist",
        "fileSize":5,"sha256hash":"abcd","path":"/nix/store/bbbb-hello/f","name":"f","defaultPath":""}])"));
    EXPECT_EQ(j["metrics"], nlohmann::json::parse(R"([{"name":"lines","unit":null,"value":3.0}])"));
    EXPECT_FALSE(std::filesystem::exists(state_ + "/other-jobset-ran"));

    pqxx::read_transaction t(*conn_);
    auto r = t.exec("SELECT job_matcher, build_id, start_time IS NOT NULL, end_time IS NOT NULL, exit_code, "
                    "signal IS NULL, uuid::text FROM RunCommandLogs");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0][0].as<std::string>(), "p:js:*");
    EXPECT_EQ(r[0][1].as<long long>(), id);
    EXPECT_TRUE(r[0][2].as<bool>());
    EXPECT_TRUE(r[0][3].as<bool>());
    EXPECT_EQ(r[0][4].as<int>(), 0);
    EXPECT_TRUE(r[0][5].as<bool>());
    auto uuid = r[0][6].as<std::string>();
    EXPECT_EQ(readFile(state_ + "/runcommand-logs/" + uuid.substr(0, 2) + "/" + uuid),
              "output-of-the-command\n");
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, BuildsPendingAtStartAreHandled)
{
    runCommand(appendBuildId(state_ + "/ids"));
    auto a = finishedBuild("a");
    auto b = finishedBuild("b");
    auto c = finishedBuild("c");
    ASSERT_EQ(count(pendingSql), 3);
    startNotify();
    waitForCount(pendingSql, 0);
    EXPECT_EQ(idsIn(state_ + "/ids"), (std::map<long long, int>{{a, 1}, {b, 1}, {c, 1}}));
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, SlowCommandDoesNotHoldUpOtherBuilds)
{
    addConfig("max_concurrent_notifications = 2");
    // The slow build's command waits (bounded) until the test lets it go.
    runCommand("for i in $(seq 600); do [ -e " + state_ + "/go ] && break; sleep 0.1; done; touch " + state_ +
                   "/slow-done",
               "p:js:slow");
    runCommand(appendBuildId(state_ + "/ids"), "p:js:fast*");
    startNotify();
    auto slow = finishedBuild("slow");
    waitForCount("SELECT count(*) FROM RunCommandLogs WHERE start_time IS NOT NULL", 1);
    std::vector<long long> fast;
    for (int i = 0; i < 4; ++i) fast.push_back(finishedBuild("fast" + std::to_string(i)));
    waitForCount(
        "SELECT count(*) FROM Builds WHERE job LIKE 'fast%' AND notificationPendingSince IS NOT NULL", 0);
    // Every fast build was handled while the slow command still ran.
    EXPECT_FALSE(std::filesystem::exists(state_ + "/slow-done"));
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE build_id = " + std::to_string(slow) +
                    " AND end_time IS NULL"),
              1);
    EXPECT_EQ(idsIn(state_ + "/ids").size(), 4u);
    std::ofstream(state_ + "/go") << "";
    waitForCount(pendingSql, 0);
    EXPECT_TRUE(std::filesystem::exists(state_ + "/slow-done"));
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, FailingCommandIsRecordedWithItsExitCodeAndNotRetried)
{
    auto counter = state_ + "/runs";
    runCommand("echo run >> " + counter + "; exit 3");
    startNotify({{"HYDRA_NOTIFY_RETRY_BASE_MS", "100"}});
    auto id = finishedBuild("failing");
    // A failure to deliver would keep the build pending with a TaskRetries row.
    waitForCount(pendingSql, 0);
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    EXPECT_EQ(stopNotify(), 0);
    startNotify({{"HYDRA_NOTIFY_RETRY_BASE_MS", "100"}});
    EXPECT_EQ(stopNotify(), 0);
    EXPECT_EQ(readFile(counter), "run\n");
    pqxx::read_transaction t(*conn_);
    auto r =
        t.exec("SELECT build_id, exit_code, error_number IS NULL, end_time IS NOT NULL FROM RunCommandLogs");
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0][0].as<long long>(), id);
    EXPECT_EQ(r[0][1].as<int>(), 3);
    EXPECT_TRUE(r[0][2].as<bool>());
    EXPECT_TRUE(r[0][3].as<bool>());
    EXPECT_NE(notifyLog().find("exited with status 3"), std::string::npos) << notifyLog();
}

TEST_F(NotifyDaemonTest, CommandThatCannotBeExecutedRecordsItsErrnoAsHydraDoes)
{
    // Without shell syntax the command is executed directly: ENOENT (2), no exit code. With
    // shell syntax the shell runs it and its 127 is the exit code, as with Hydra's Perl.
    runCommand("invalid-command-this-does-not-exist");
    runCommand("invalid-command-this-does-not-exist 2>/dev/null");
    startNotify();
    finishedBuild("any");
    waitForCount(pendingSql, 0);
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    pqxx::read_transaction t(*conn_);
    auto r = t.exec("SELECT command, exit_code, error_number, signal IS NULL, end_time IS NOT NULL "
                    "FROM RunCommandLogs ORDER BY command");
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0][0].as<std::string>(), "invalid-command-this-does-not-exist");
    EXPECT_TRUE(r[0][1].is_null());
    EXPECT_EQ(r[0][2].as<int>(), ENOENT);
    EXPECT_TRUE(r[0][3].as<bool>());
    EXPECT_TRUE(r[0][4].as<bool>());
    EXPECT_EQ(r[1][1].as<int>(), 127);
    EXPECT_TRUE(r[1][2].is_null());
    EXPECT_TRUE(r[1][4].as<bool>());
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, EmptyJobMatcherMatchesEveryJob)
{
    runCommand(appendBuildId(state_ + "/ids"), "\"\"");
    startNotify();
    auto id = finishedBuild("any");
    waitForCount(pendingSql, 0);
    EXPECT_EQ(idsIn(state_ + "/ids"), (std::map<long long, int>{{id, 1}}));
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE job_matcher = '' AND exit_code = 0"), 1);
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, RunThatCouldNotStartIsRetriedAcrossRestartUntilItRuns)
{
    auto counter = state_ + "/runs";
    runCommand("echo run >> " + counter);
    breakRunCommandLogs();
    std::map<std::string, std::string> env{{"HYDRA_NOTIFY_RETRY_BASE_MS", "300"}};
    startNotify(env);
    auto id = finishedBuild("flaky");
    waitForCount(
        "SELECT count(*) FROM TaskRetries WHERE channel = 'build_finished' AND pluginname = 'RunCommand' "
        "AND attempts = 2",
        1);
    EXPECT_EQ(stopNotify(), 0);
    EXPECT_EQ(count(pendingSql), 1) << "a build with a failing plugin stays pending";
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries WHERE payload = '" + std::to_string(id) + "'"), 1);
    std::filesystem::remove(state_ + "/runcommand-logs");
    startNotify(env);
    waitForCount(pendingSql, 0);
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    EXPECT_EQ(readFile(counter), "run\n");
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE end_time IS NOT NULL"), 1);
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE exit_code = 0"), 1);
    EXPECT_NE(notifyLog().find("RunCommand handled build_finished"), std::string::npos) << notifyLog();
}

TEST_F(NotifyDaemonTest, DynamicRunCommandRunsExecutableOutputsOfHookJobs)
{
    addConfig("<dynamicruncommand>\n  enable = 1\n</dynamicruncommand>");
    enableDynamicRunCommand(true, true);
    auto example = hookScript("example");
    std::filesystem::create_symlink(hookScript("target"), state_ + "/hooks/link");
    std::filesystem::create_directories(state_ + "/hooks/dir/bin");
    auto inDir = hookScript("dir/bin/hook");
    auto plain =
        hookScript("plain", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    finishedBuildWithOut("runCommandHook.example", example);
    finishedBuildWithOut("runCommandHook.symlink", state_ + "/hooks/link");
    finishedBuildWithOut("runCommandHook.directory", state_ + "/hooks/dir");
    finishedBuildWithOut("runCommandHook.not-executable", plain);
    auto failed = finishedBuildWithOut("runCommandHook.failed", hookScript("failed"));
    exec("UPDATE Builds SET buildStatus = 1 WHERE id = " + std::to_string(failed));
    finishedBuildWithOut("runCommandHook", hookScript("bare"));
    finishedBuildWithOut("runCommandHook.", hookScript("dot"));
    finishedBuildWithOut("notAHook", hookScript("other"));
    startNotify();
    waitForCount(pendingSql, 0);
    EXPECT_EQ(hooksRan(), (std::map<std::string, int>{{"\"job\":\"runCommandHook.example\"", 1},
                                                      {"\"job\":\"runCommandHook.symlink\"", 1}}));
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE exit_code = 0 AND "
                    "job_matcher = 'DynamicRunCommand(runCommandHook.example)' AND command = '" +
                    example + "'"),
              1);
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs"), 2);
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    auto log = notifyLog();
    EXPECT_NE(log.find("runCommandHook.directory"), std::string::npos) << log;
    EXPECT_NE(log.find("is not a regular file or symlink"), std::string::npos) << log;
    EXPECT_NE(log.find("runCommandHook.not-executable"), std::string::npos) << log;
    EXPECT_NE(log.find("is not executable"), std::string::npos) << log;
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, DynamicRunCommandNeedsTheProjectAndTheJobsetToEnableIt)
{
    addConfig("<dynamicruncommand>\n  enable = 1\n</dynamicruncommand>");
    startNotify();
    for (auto [project, jobset] : {std::pair{true, false}, std::pair{false, true}, std::pair{false, false}}) {
        enableDynamicRunCommand(project, jobset);
        finishedBuildWithOut("runCommandHook.off", hookScript("off"));
        waitForCount(pendingSql, 0);
    }
    EXPECT_TRUE(hooksRan().empty());
    EXPECT_NE(notifyLog().find("project or jobset don't have dynamic runcommand enabled"), std::string::npos)
        << notifyLog();
    enableDynamicRunCommand(true, true);
    finishedBuildWithOut("runCommandHook.on", hookScript("on"));
    waitForCount(pendingSql, 0);
    EXPECT_EQ(hooksRan(), (std::map<std::string, int>{{"\"job\":\"runCommandHook.on\"", 1}}));
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, DynamicRunCommandIsOffUnlessHydraConfEnablesIt)
{
    addConfig("<dynamicruncommand>\n  enable = 0\n</dynamicruncommand>");
    runCommand(appendBuildId(state_ + "/ids"));
    enableDynamicRunCommand(true, true);
    auto id = finishedBuildWithOut("runCommandHook.example", hookScript("example"));
    startNotify();
    waitForCount(pendingSql, 0);
    EXPECT_EQ(idsIn(state_ + "/ids"), (std::map<long long, int>{{id, 1}}));
    EXPECT_TRUE(hooksRan().empty());
    EXPECT_EQ(count("SELECT count(*) FROM RunCommandLogs WHERE job_matcher LIKE 'DynamicRunCommand%'"), 0);
    EXPECT_EQ(stopNotify(), 0);
}

TEST_F(NotifyDaemonTest, KillWithThousandPendingLosesNothing)
{
    auto file = state_ + "/ids";
    runCommand(appendBuildId(file));
    exec("INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, startTime, "
         "stopTime, "
         "  buildStatus, notificationPendingSince) "
         "SELECT 1, 1700000000, " +
         std::to_string(jobsetId_) +
         ", 'job' || n, 'job' || n, '/nix/store/x-job' || n || '.drv', 'x86_64-linux', 1700000000, "
         "1700000001, 0, "
         "  1700000001 FROM generate_series(1, 1000) n");
    ASSERT_EQ(count(pendingSql), 1000);
    startNotify();
    waitFor([&] { return lines(file) >= 200; }, "200 commands ran", std::chrono::seconds(300));
    killNotify();
    auto before = count(pendingSql);
    EXPECT_GT(before, 0) << "killed too late to test anything";
    startNotify();
    waitForCount(pendingSql, 0, std::chrono::seconds(600));
    EXPECT_EQ(stopNotify(), 0);
    auto ids = idsIn(file);
    EXPECT_EQ(ids.size(), 1000u);
    pqxx::read_transaction t(*conn_);
    std::set<long long> interrupted;
    for (auto row : t.exec("SELECT build_id FROM RunCommandLogs WHERE end_time IS NULL"))
        interrupted.insert(row[0].as<long long>());
    EXPECT_LE(interrupted.size(), 2u) << "at most one command per worker was running at the kill";
    for (const auto& [id, n] : ids) {
        if (n == 1) continue;
        EXPECT_EQ(n, 2) << "build " << id;
        EXPECT_TRUE(interrupted.contains(id)) << "build " << id << " ran twice without being interrupted";
    }
    EXPECT_EQ(t.exec1("SELECT count(*) FROM RunCommandLogs WHERE end_time IS NOT NULL AND exit_code = 0")[0]
                  .as<long long>(),
              1000);
}

TEST_F(NotifyDaemonTest, BadInputIsLoggedAndNothingStops)
{
    runCommand(appendBuildId(state_ + "/ids"));
    addConfig("<runcommand>\n  job = *:*:*\n</runcommand>");
    startNotify();
    exec("SELECT pg_notify('build_finished', 'abc')");
    exec("SELECT pg_notify('step_finished', '12')");
    exec("SELECT pg_notify('build_finished', '999999')");
    auto id = finishedBuild("after");
    waitForCount(pendingSql, 0);
    EXPECT_EQ(idsIn(state_ + "/ids"), (std::map<long long, int>{{id, 1}}));
    auto log = notifyLog();
    EXPECT_NE(log.find("malformed payload ‘abc’ on channel ‘build_finished’"), std::string::npos) << log;
    EXPECT_NE(log.find("malformed payload ‘12’ on channel ‘step_finished’"), std::string::npos) << log;
    EXPECT_NE(log.find("build 999999 of a buildFinished event no longer exists"), std::string::npos) << log;
    EXPECT_NE(log.find("lacks a 'command' option"), std::string::npos) << log;
    EXPECT_EQ(count("SELECT count(*) FROM TaskRetries"), 0);
    EXPECT_EQ(stopNotify(), 0);
}

// A loopback port free at the time of asking.
int freePort()
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), len), 0);
    EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

TEST_F(NotifyDaemonTest, PrometheusMetricsCountEventsAndFailures)
{
    int port = freePort();
    addConfig("<hydra_notify>\n  <prometheus>\n    listen_address = 127.0.0.1\n    port = " +
              std::to_string(port) + "\n  </prometheus>\n</hydra_notify>");
    runCommand("true");
    startNotify({{"HYDRA_NOTIFY_RETRY_BASE_MS", "3600000"}});
    finishedBuild("good");
    waitForCount(pendingSql, 0);
    breakRunCommandLogs();
    finishedBuild("bad");
    waitForCount("SELECT count(*) FROM TaskRetries", 1);
    waitForCount(pendingSql, 1);
    exec("SELECT pg_notify('build_queued', 'nope')");
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(10));
    std::string body;
    waitFor(
        [&] {
            auto r = client.Get("/metrics");
            body = r && r->status == 200 ? r->body : "";
            return body.find("hydra_notify_events_malformed_total 1\n") != std::string::npos;
        },
        "the malformed event counted");
    EXPECT_NE(body.find("hydra_notify_events_received_total{channel=\"build_finished\"} 2\n"),
              std::string::npos)
        << body;
    EXPECT_NE(
        body.find("hydra_notify_plugin_handled_total{channel=\"build_finished\",plugin=\"RunCommand\"} 1\n"),
        std::string::npos)
        << body;
    EXPECT_NE(
        body.find("hydra_notify_plugin_failures_total{channel=\"build_finished\",plugin=\"RunCommand\"} 1\n"),
        std::string::npos)
        << body;
    EXPECT_NE(body.find("hydra_notify_queue_depth 0\n"), std::string::npos) << body;
    EXPECT_NE(body.find("hydra_notify_plugin_seconds_total{"), std::string::npos) << body;
    EXPECT_EQ(stopNotify(), 0);
}

} // namespace

TEST_F(NotifyDaemonTest, BuildFinishedWhileTheConnectionWasLostIsHandledAfterReconnecting)
{
    runCommand(appendBuildId(state_ + "/ids"));
    startNotify();
    auto before = finishedBuild("before");
    waitForCount(pendingSql, 0);

    // Every connection drops; a build finishes whose build_finished the daemon cannot hear
    // (made pending without a notification, as one sent while it was away).
    conn_.reset();
    PgCluster::get().cluster().restart();
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    rows_ = std::make_unique<HydraRows>(*conn_);
    auto lost = rows_->queueBuild(jobsetId_, "lost", "/nix/store/aaaa-lost.drv", "/nix/store/bbbb-lost");
    exec("UPDATE Builds SET finished = 1, buildStatus = 0, startTime = 1, stopTime = 2, "
         "notificationPendingSince = 2 WHERE id = " +
         std::to_string(lost));

    waitForCount(pendingSql, 0, std::chrono::seconds(90));
    EXPECT_EQ(idsIn(state_ + "/ids"), (std::map<long long, int>{{before, 1}, {lost, 1}})) << notifyLog();
    EXPECT_EQ(stopNotify(), 0);
}
