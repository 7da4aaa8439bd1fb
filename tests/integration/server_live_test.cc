// Following a running step's log over HTTP, as `curl -N` and the log page's script do: the real
// queue runner writes the log in Nix's sandbox while hydra-server streams it.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"
#include "harness/server_fixture.hh"
#include "nix/build_log_path.hh"
#include "util/process.hh"

#include <atomic>
#include <ctime>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <httplib.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Prints "line I of NONCE" every 0.4 s, `lines` times, then writes $out.
std::string tickingScript(int lines, const std::string& nonce)
{
    return fmt::format("i=1; while [ $i -le {} ]; do echo \"line $i of {}\"; sleep 0.4; i=$((i+1)); done; "
                       "echo done > \"$out\"",
                       lines, nonce);
}

std::string readFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// One server-sent event as the test reads it.
struct Sse {
    std::string event, id, data;
};

/// Splits a text/event-stream body into its events (comments and retry fields left out).
std::vector<Sse> parseEvents(const std::string& body)
{
    std::vector<Sse> out;
    Sse cur;
    std::istringstream in(body);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) {
            if (!cur.event.empty() || !cur.data.empty()) out.push_back(cur);
            cur = {};
        } else if (line.starts_with("event: ")) {
            cur.event = line.substr(7);
        } else if (line.starts_with("id: ")) {
            cur.id = line.substr(4);
        } else if (line.starts_with("data: ")) {
            cur.data = line.substr(6);
        }
    }
    return out;
}

class ServerLiveTest : public QueueRunnerFixture {
protected:
    void startServer()
    {
        server_ = std::make_unique<TestDaemon>(serverBinary(), state_ + "/server.log");
        port_ = startServerDaemon(*server_, runnerEnv());
        ASSERT_NE(port_, 0);
    }
    std::string logPath(const std::string& drvPath) const
    {
        return nix::buildLogPath(state_ + "/build-logs", drvPath).string();
    }
    bool stepRunning(long long id)
    {
        return query1<long long>(
                   fmt::format("SELECT count(*) FROM BuildSteps WHERE build = {} AND busy <> 0", id)) > 0;
    }
    void waitForRunningStep(long long id)
    {
        waitForCount(fmt::format("SELECT count(*) FROM BuildSteps WHERE build = {} AND busy <> 0", id), 1,
                     120s);
    }
    /// A queued build of one derivation printing `lines` lines, one every 0.4 s.
    struct Ticking {
        std::string nonce;
        NixDrv drv;
        long long id;
    };
    Ticking queueTicking(int lines)
    {
        NixGraph g;
        g.add("ticking").script = tickingScript(lines, g.nonce());
        auto drv = g.derivations().at("ticking");
        auto id = rows_->queueBuild(rows_->jobset(), "ticking", drv.drvPath, drv.out());
        return {g.nonce(), drv, id};
    }
    std::unique_ptr<httplib::Client> client()
    {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
        c->set_read_timeout(60, 0);
        c->set_connection_timeout(5, 0);
        return c;
    }

    std::unique_ptr<TestDaemon> server_;
    int port_ = 0;
};

TEST_F(ServerLiveTest, CurlFollowGetsEachLineWithinASecondAndEndsWithTheStep)
{
    auto ticking = queueTicking(12);
    const auto& drv = ticking.drv;
    auto id = ticking.id;
    startServer();
    startRunner();
    waitForRunningStep(id);

    // The stream, read as it arrives; the log file, watched on disk: each line's arrival on the
    // stream is compared with its appearance in the file.
    std::mutex m;
    std::map<int, Clock::time_point> seenInStream, seenInFile;
    std::string body;
    bool runningAtFirstLine = false;
    std::atomic<bool> done{false};
    std::jthread reader([&] {
        auto c = client();
        auto res = c->Get(fmt::format("/build/{}/log?follow=1", id), [&](const char* data, size_t len) {
            std::lock_guard lock(m);
            body.append(data, len);
            for (int i = 1; i <= 12; ++i)
                if (!seenInStream.contains(i) &&
                    body.find(fmt::format("line {} of", i)) != std::string::npos) {
                    seenInStream[i] = Clock::now();
                    if (i == 1) runningAtFirstLine = true;
                }
            return true;
        });
        EXPECT_TRUE(res) << "the stream failed: " << httplib::to_string(res.error());
        if (res) {
            EXPECT_EQ(res->status, 200);
        }
        done = true;
    });
    auto deadline = Clock::now() + 120s;
    while (!done && Clock::now() < deadline) {
        auto text = readFile(logPath(drv.drvPath));
        for (int i = 1; i <= 12; ++i)
            if (!seenInFile.contains(i) && text.find(fmt::format("line {} of", i)) != std::string::npos)
                seenInFile[i] = Clock::now();
        std::this_thread::sleep_for(20ms);
    }
    reader.join();
    ASSERT_TRUE(done) << runnerLog();

    // It ended with the step, holding the whole log once.
    EXPECT_FALSE(stepRunning(id));
    EXPECT_EQ(body, readFile(logPath(drv.drvPath)));
    EXPECT_TRUE(runningAtFirstLine);
    std::lock_guard lock(m);
    ASSERT_EQ(seenInStream.size(), 12u) << body;
    int late = 0;
    for (const auto& [i, t] : seenInStream) {
        ASSERT_TRUE(seenInFile.contains(i)) << i;
        // The file is polled every 20 ms, so "in the file" may be seen up to then after the stream.
        if (t - seenInFile[i] > 1s) ++late;
    }
    EXPECT_EQ(late, 0) << "lines that reached the stream more than a second after the log file";
    // Lines came one by one while the step ran, not all at its end.
    EXPECT_GT(seenInStream[12] - seenInStream[1], 2s);
}

TEST_F(ServerLiveTest, ARemoteBuildsLogStreamsAsItArrivesOverSsh)
{
    BuildHost host;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux") << "\n";
    auto ticking = queueTicking(10);
    const auto& drv = ticking.drv;
    auto id = ticking.id;
    startServer();
    startRunner(machines);

    std::string body;
    std::map<int, Clock::time_point> arrived;
    bool runningAtFirstLine = false;
    auto c = client();
    auto res = c->Get(fmt::format("/build/{}/log?follow=1", id), [&](const char* data, size_t len) {
        body.append(data, len);
        for (int i = 1; i <= 10; ++i)
            if (!arrived.contains(i) && body.find(fmt::format("line {} of", i)) != std::string::npos) {
                arrived[i] = Clock::now();
                if (i == 1) runningAtFirstLine = stepRunning(id);
            }
        return true;
    });
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    waitForFinished({id});
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<std::string>(fmt::format("SELECT machine FROM BuildSteps WHERE build = {}", id)),
              host.storeUri());
    EXPECT_TRUE(runningAtFirstLine);
    ASSERT_EQ(arrived.size(), 10u) << body;
    EXPECT_GT(arrived[10] - arrived[1], 2s); // line by line as the host printed them, not at the end
    EXPECT_EQ(body, readFile(logPath(drv.drvPath)));
}

TEST_F(ServerLiveTest, EventStreamResumesAfterADroppedConnectionWithoutLossOrRepetition)
{
    auto ticking = queueTicking(10);
    const auto& drv = ticking.drv;
    auto id = ticking.id;
    startServer();
    startRunner();
    waitForRunningStep(id);
    int step = static_cast<int>(
        query1<long long>(fmt::format("SELECT stepnr FROM BuildSteps WHERE build = {} AND busy <> 0", id)));
    auto path = fmt::format("/build/{}/step/{}/log", id, step);

    // A first connection drops after the third line.
    std::string first;
    {
        auto c = client();
        httplib::Headers h{{"Accept", "text/event-stream"}};
        auto res = c->Get(path, h, [&](const char* data, size_t len) {
            first.append(data, len);
            return first.find("line 3 of") == std::string::npos;
        });
        EXPECT_FALSE(res); // cut by the client
    }
    auto before = parseEvents(first);
    ASSERT_FALSE(before.empty()) << first;
    std::string text;
    for (const auto& e : before)
        if (e.event == "log") text += nlohmann::json::parse(e.data).at("text").get<std::string>();
    std::string lastId = before.back().id;
    ASSERT_FALSE(lastId.empty());
    EXPECT_EQ(std::to_string(text.size()), lastId);

    // The browser reconnects with Last-Event-ID; the rest comes, then the end.
    std::string second;
    {
        auto c = client();
        httplib::Headers h{{"Accept", "text/event-stream"}, {"Last-Event-ID", lastId}};
        auto res = c->Get(path, h, [&](const char* data, size_t len) {
            second.append(data, len);
            return true;
        });
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 200);
        EXPECT_NE(res->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
    }
    auto after = parseEvents(second);
    ASSERT_FALSE(after.empty());
    EXPECT_EQ(after.back().event, "end");
    for (const auto& e : after)
        if (e.event == "log") text += nlohmann::json::parse(e.data).at("text").get<std::string>();
    EXPECT_EQ(text, readFile(logPath(drv.drvPath)));
    EXPECT_FALSE(stepRunning(id));
}

TEST_F(ServerLiveTest, RunningStepPagesFollowAndFinishedOnesAnswerAtOnce)
{
    auto ticking = queueTicking(8);
    const auto& drv = ticking.drv;
    auto id = ticking.id;
    const auto& nonce = ticking.nonce;
    startServer();

    // A queued build's follower waits for its first step, then follows it to its end.
    std::string body;
    std::jthread reader([&] {
        auto c = client();
        auto res = c->Get(fmt::format("/build/{}/log?follow=1", id), [&](const char* data, size_t len) {
            body.append(data, len);
            return true;
        });
        EXPECT_TRUE(res);
    });
    std::this_thread::sleep_for(500ms);
    startRunner();
    waitForRunningStep(id);
    auto page = httpRequest(port_, "GET", fmt::format("/build/{}/log", id));
    EXPECT_EQ(page.status, 200);
    EXPECT_NE(page.body.find("id=\"log\""), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("data-follow=\"/build/" + std::to_string(id) + "/step/"), std::string::npos);
    EXPECT_NE(page.body.find("/static/live.js"), std::string::npos);
    auto script = httpRequest(port_, "GET", "/static/live.js");
    EXPECT_EQ(script.status, 200);
    EXPECT_NE(script.body.find("EventSource"), std::string::npos);
    reader.join();
    waitForFinished({id});
    EXPECT_EQ(body, readFile(logPath(drv.drvPath)));
    EXPECT_NE(body.find("line 8 of " + nonce), std::string::npos);

    // Once the step is over, following answers the whole log and ends at once; the page is static.
    auto again = httpRequest(port_, "GET", fmt::format("/build/{}/log?follow=1", id));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body, body);
    EXPECT_EQ(httpRequest(port_, "GET", fmt::format("/build/{}/log", id)).body.find("data-follow"),
              std::string::npos);

    // Bad offsets and unknown builds are refused by name.
    auto bad = httpRequest(port_, "GET", fmt::format("/build/{}/log?follow=1&from=x", id));
    EXPECT_EQ(bad.status, 400);
    EXPECT_NE(bad.body.find("from"), std::string::npos) << bad.body;
    EXPECT_EQ(httpRequest(port_, "GET", "/build/999999/log?follow=1").status, 404);
}

TEST_F(ServerLiveTest, AServerThatStopsCutsAFollowedLogRatherThanEndingIt)
{
    auto ticking = queueTicking(30);
    auto id = ticking.id;
    startServer();
    startRunner();
    waitForRunningStep(id);
    std::string text, events;
    std::optional<httplib::Error> textEnd, eventsEnd;
    std::jthread follower([&] {
        auto res =
            client()->Get(fmt::format("/build/{}/log?follow=1", id), [&](const char* data, size_t len) {
                text.append(data, len);
                return true;
            });
        textEnd = res.error();
    });
    std::jthread browser([&] {
        httplib::Headers h{{"Accept", "text/event-stream"}};
        auto res = client()->Get(fmt::format("/build/{}/log", id), h, [&](const char* data, size_t len) {
            events.append(data, len);
            return true;
        });
        eventsEnd = res.error();
    });
    std::this_thread::sleep_for(1500ms);
    int status = server_->stop();
    follower.join();
    browser.join();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << status;
    // The step still runs: neither reader may be told that the log is complete.
    EXPECT_TRUE(stepRunning(id));
    ASSERT_TRUE(textEnd && eventsEnd);
    EXPECT_NE(*textEnd, httplib::Error::Success) << text;
    EXPECT_NE(*eventsEnd, httplib::Error::Success);
    EXPECT_NE(text.find("line 1 of"), std::string::npos) << text;
    EXPECT_EQ(events.find("event: end"), std::string::npos) << events;
}

TEST_F(ServerLiveTest, EventsStreamCarriesTheFarmsNotifications)
{
    NixGraph g;
    g.add("quick");
    auto drv = g.derivations().at("quick");
    startServer();
    std::string body;
    std::atomic<bool> sawFinish{false};
    std::jthread reader([&] {
        auto c = client();
        httplib::Headers h{{"Accept", "text/event-stream"}};
        c->Get("/events", h, [&](const char* data, size_t len) {
            body.append(data, len);
            sawFinish = body.find("event: build_finished") != std::string::npos;
            return !sawFinish;
        });
    });
    std::this_thread::sleep_for(500ms);
    auto id = rows_->queueBuild(rows_->jobset(), "quick", drv.drvPath, drv.out());
    startRunner();
    waitForFinished({id});
    reader.join();
    ASSERT_TRUE(sawFinish) << body;
    auto events = parseEvents(body);
    bool stepStarted = false;
    for (const auto& e : events)
        if (e.event == "step_started")
            stepStarted = stepStarted || nlohmann::json::parse(e.data).at(0) == std::to_string(id);
    EXPECT_TRUE(stepStarted) << body;

    // Open streams do not hold up a SIGTERM: they end, and the server exits cleanly.
    std::atomic<int> ended{0};
    std::vector<std::jthread> open;
    for (const char* path : {"/events", "/events"})
        open.emplace_back([&, path] {
            auto c = client();
            c->Get(path, [](const char*, size_t) { return true; });
            ++ended;
        });
    std::this_thread::sleep_for(500ms);
    int status = server_->stop();
    open.clear();
    EXPECT_EQ(ended, 2);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "exit status " << status;
}

TEST_F(ServerLiveTest, HydraBuildLogFollowPrintsTheLogAsWrittenAndEndsWithTheStep)
{
    auto ticking = queueTicking(8);
    const auto& drv = ticking.drv;
    auto id = ticking.id;
    const auto& nonce = ticking.nonce;
    auto hydraCli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), std::string(HYDRA_BINARY_DIR) + "/bin/hydra");
        return hydra::run({.argv = args, .setEnv = runnerEnv(), .unsetEnv = {"HYDRA_DATABASE_URL"}}, "",
                          3min);
    };
    // Started while the build is still queued: it waits for the step, follows it, then exits.
    std::optional<RunResult> followed;
    std::jthread follower([&] { followed = hydraCli({"build", "log", "--follow", std::to_string(id)}); });
    std::this_thread::sleep_for(500ms);
    startRunner();
    follower.join();
    ASSERT_TRUE(followed);
    EXPECT_EQ(followed->status, 0) << followed->err;
    EXPECT_FALSE(stepRunning(id));
    EXPECT_EQ(followed->out, readFile(logPath(drv.drvPath)));
    EXPECT_NE(followed->out.find("line 8 of " + nonce), std::string::npos);

    auto again = hydraCli({"build", "log", "--follow", std::to_string(id)}); // the step is over: all of it
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_EQ(again.out, followed->out);
    auto whole = hydraCli({"build", "log", std::to_string(id)});
    EXPECT_EQ(whole.status, 0) << whole.err;
    EXPECT_EQ(whole.out, followed->out);
    auto missing = hydraCli({"build", "log", "--follow", "999999"});
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("build 999999 does not exist"), std::string::npos) << missing.err;
}

TEST_F(ServerLiveTest, AnUnfinishedBuildsPageShowsItsStepsDoneRunningAndWaiting)
{
    NixGraph g;
    g.add("first").script = tickingScript(25, g.nonce());
    g.add("second", {"first"});
    g.add("top", {"second"});
    auto drvs = g.derivations();
    auto id = rows_->queueBuild(rows_->jobset(), "top", drvs.at("top").drvPath, drvs.at("top").out());
    startServer();
    startRunner();
    waitForRunningStep(id);
    auto page = httpRequest(port_, "GET", fmt::format("/build/{}", id));
    ASSERT_EQ(page.status, 200);
    auto& b = page.body;
    EXPECT_NE(
        b.find("<strong>0</strong> steps done · <strong>1</strong> running · <strong>2</strong> waiting"),
        std::string::npos)
        << b;
    EXPECT_NE(b.find("on <strong>localhost</strong>"), std::string::npos) << b;
    EXPECT_NE(b.find(drvs.at("second").drvPath), std::string::npos);
    EXPECT_NE(b.find(drvs.at("top").drvPath), std::string::npos);
    // The page refreshes itself for this build's events only.
    EXPECT_NE(b.find("data-live=\"step_started"), std::string::npos);
    EXPECT_NE(b.find("data-live-build=\"" + std::to_string(id) + "\""), std::string::npos);
    // Its log page, while a dependency builds, is that step's log, followed live.
    auto log = httpRequest(port_, "GET", fmt::format("/build/{}/log", id));
    EXPECT_EQ(log.status, 200) << log.body;
    EXPECT_NE(log.body.find("data-follow=\"/build/" + std::to_string(id) + "/step/1/log\""),
              std::string::npos)
        << log.body;
    waitForFinished({id});
    auto done = httpRequest(port_, "GET", fmt::format("/build/{}", id)).body;
    EXPECT_EQ(done.find("id=\"progress\""), std::string::npos);
}

TEST_F(ServerLiveTest, TheEvaluationsPageShowsRunningEvaluationsWithTheJobsFoundSoFar)
{
    int js = rows_->jobset();
    startServer();
    exec(fmt::format("UPDATE Jobsets SET startTime = {} WHERE id = {}", std::time(nullptr) - 5, js));
    // What hydra-evaluator sends while its workers find jobs.
    exec(fmt::format("SELECT pg_notify('eval_progress', 'trace\t{}\t1234')", js));
    std::string body;
    for (int i = 0; i < 100 && body.find("1234") == std::string::npos; ++i) {
        body = httpRequest(port_, "GET", "/evals").body;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_NE(body.find("Evaluating now"), std::string::npos) << body;
    EXPECT_NE(body.find("<strong>1234</strong> jobs found so far"), std::string::npos) << body;
    EXPECT_NE(body.find("data-live=\"eval_started eval_progress"), std::string::npos);
    // A malformed payload is no count: the last good one stays.
    exec(fmt::format("SELECT pg_notify('eval_progress', 'trace\t{}\tmany')", js));
    exec(fmt::format("SELECT pg_notify('eval_progress', 'trace\tx{}\t5')", js));
    std::this_thread::sleep_for(300ms);
    body = httpRequest(port_, "GET", "/evals").body;
    EXPECT_NE(body.find("<strong>1234</strong> jobs found so far"), std::string::npos) << body;
    exec(fmt::format("SELECT pg_notify('eval_added', 'trace\t{}\t7')", js));
    exec(fmt::format("UPDATE Jobsets SET startTime = NULL WHERE id = {}", js));
    for (int i = 0; i < 100 && body.find("Evaluating now") != std::string::npos; ++i) {
        body = httpRequest(port_, "GET", "/evals").body;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_EQ(body.find("Evaluating now"), std::string::npos) << body;
}

} // namespace
