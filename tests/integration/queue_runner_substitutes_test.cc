// hydra-queue-runner with use-substitutes: outputs in a binary cache are fetched (a substitution
// step, type 1) instead of built; the real binary, PostgreSQL, the local store and a file://
// binary cache.

#include "harness/binary_cache.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"

#include <arpa/inet.h>
#include <chrono>
#include <filesystem>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// A TCP port on 127.0.0.1 that accepts connections and never answers: a binary cache that hangs.
class SilentServer {
public:
    SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM, 0))
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        auto* sa = reinterpret_cast<sockaddr*>(&a); // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
        if (fd_ < 0 || ::bind(fd_, sa, len) != 0 || ::listen(fd_, 64) != 0 ||
            ::getsockname(fd_, sa, &len) != 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(a.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    SilentServer(const SilentServer&) = delete;
    SilentServer& operator=(const SilentServer&) = delete;
    std::string uri() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int fd_;
    int port_ = 0;
};

class QueueRunnerSubstitutesTest : public QueueRunnerFixture {
protected:
    /// Builds the named nodes, puts their outputs in the cache and deletes them locally.
    void cacheOnly(const std::map<std::string, NixDrv>& built, const std::vector<std::string>& names)
    {
        for (const auto& n : names) {
            cache_.add(built.at(n).out());
            deleteFromStore(built.at(n).out());
            ASSERT_FALSE(validLocally(built.at(n).out())) << n;
        }
    }

    /// One derivation "a", built, then only in the cache; queued as a build. Returns it and the
    /// build's id. `breakCache` leaves its .narinfo but removes its NAR: announced, undeliverable.
    std::pair<NixDrv, long long> queueCachedDerivation(bool breakCache = false)
    {
        NixGraph g;
        g.add("a");
        auto built = g.build();
        cacheOnly(built, {"a"});
        if (breakCache)
            std::filesystem::remove_all(cache_.uri().substr(std::string("file://").size()) + "/nar");
        const auto& a = built.at("a");
        return {a, rows_->queueBuild(rows_->jobset(), "a", a.drvPath, a.out())};
    }

    void start(bool useSubstitutes)
    {
        addConfig(std::string("use-substitutes = ") + (useSubstitutes ? "1" : "0"));
        startRunner("", {{"NIX_CONFIG", cache_.nixConfig()}});
    }

    long long steps(const std::string& drvPath, int type)
    {
        return query1<long long>("SELECT count(*) FROM BuildSteps WHERE type = " + std::to_string(type) +
                                 " AND drvPath = '" + drvPath + "'");
    }

    BinaryCache cache_;
};

} // namespace

TEST_F(QueueRunnerSubstitutesTest, OutputInTheCacheIsSubstitutedNotBuilt)
{
    auto [a, id] = queueCachedDerivation();
    start(true);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT isCachedBuild FROM Builds WHERE id = " + std::to_string(id)), 1);
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(steps(a.drvPath, 0), 0) << "nothing was built: " << runnerLog();
    ASSERT_EQ(steps(a.drvPath, 1), 1) << runnerLog();
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE type = 1 AND status = 0 AND busy = 0 "
                                "AND startTime IS NOT NULL AND stopTime >= startTime AND build = " +
                                std::to_string(id)),
              1);
    EXPECT_EQ(query1<std::string>("SELECT o.name || ' ' || o.path FROM BuildStepOutputs o JOIN BuildSteps s "
                                  "ON s.build = o.build AND s.stepnr = o.stepnr WHERE s.type = 1"),
              "out " + a.out());
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, DependencyIsSubstitutedAndDependentBuiltOnTop)
{
    NixGraph g;
    g.add("a");
    g.add("b", {"a"});
    auto built = g.build({"a"});
    auto drvs = g.derivations();
    cacheOnly(built, {"a"});
    const auto& b = drvs.at("b");
    auto id = rows_->queueBuild(rows_->jobset(), "b", b.drvPath, b.out());
    start(true);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(drvs.at("a").drvPath, 1), 1) << runnerLog();
    EXPECT_EQ(steps(drvs.at("a").drvPath, 0), 0) << runnerLog();
    EXPECT_EQ(steps(b.drvPath, 0), 1) << "b is in no cache: built " << runnerLog();
    EXPECT_EQ(steps(b.drvPath, 1), 0);
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildSteps WHERE status IS DISTINCT FROM 0 OR busy != 0"), 0);
    EXPECT_TRUE(validLocally(drvs.at("a").out()));
    EXPECT_TRUE(validLocally(b.out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, WithoutUseSubstitutesTheOutputIsBuilt)
{
    auto [a, id] = queueCachedDerivation();
    start(false);
    waitForFinished({id});

    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 0), 1) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 1), 0) << runnerLog();
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, FailedSubstitutionFallsBackToBuilding)
{
    auto [a, id] = queueCachedDerivation(true);
    start(true);
    waitForFinished({id});

    EXPECT_NE(runnerLog().find("trying substituters"), std::string::npos) << "it was tried: " << runnerLog();
    EXPECT_EQ(buildStatus(id), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 1), 0) << runnerLog();
    EXPECT_EQ(steps(a.drvPath, 0), 1) << runnerLog();
    EXPECT_TRUE(validLocally(a.out()));
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerSubstitutesTest, SigtermStopsAHangingSubstitutionAndTheBuildStaysQueued)
{
    SilentServer hanging;
    NixGraph g;
    g.add("a");
    auto drvs = g.derivations();
    const auto& a = drvs.at("a");
    auto id = rows_->queueBuild(rows_->jobset(), "a", a.drvPath, a.out());
    addConfig("use-substitutes = 1");
    startRunner("", {{"NIX_CONFIG", "substituters = " + hanging.uri() + "\nrequire-sigs = false"}});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (runnerLog().find("trying substituters") == std::string::npos) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << runnerLog();
        std::this_thread::sleep_for(100ms);
    }
    std::this_thread::sleep_for(1s); // the download is under way (and hangs)

    EXPECT_EQ(stopRunner(), 0) << runnerLog();
    EXPECT_EQ(query1<int>("SELECT finished FROM Builds WHERE id = " + std::to_string(id)), 0);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps"), 0) << runnerLog();
    EXPECT_FALSE(validLocally(a.out()));
}
