// hydra-queue-runner on a small farm: a 300-derivation DAG queued as several builds, built on
// localhost and two build hosts with stores of their own, with every row and announcement
// checked afterwards.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

constexpr int layers = 10;
constexpr int width = 30;

std::string nodeName(int layer, int i)
{
    return "n" + std::to_string(layer) + "_" + std::to_string(i);
}

/// `layers` layers of `width` nodes; each node needs two of the layer below, so every node is
/// needed by some node of the top layer. Outputs do not reference their inputs: closures stay
/// small and the test measures scheduling and copying, not NAR volume.
NixGraph layeredDag()
{
    NixGraph g;
    for (int l = 0; l < layers; ++l)
        for (int i = 0; i < width; ++i) {
            std::vector<std::string> deps;
            if (l > 0) deps = {nodeName(l - 1, i), nodeName(l - 1, (i + 1) % width)};
            g.add(nodeName(l, i), deps).referenceDeps = false;
        }
    return g;
}

/// Store paths among `paths` that are valid in the host's store.
std::set<std::string> validOn(const BuildHost& host, const std::vector<std::string>& paths)
{
    std::string cmd = "nix-store --check-validity --print-invalid";
    for (const auto& p : paths) cmd += " " + p;
    auto r = host.run(cmd);
    std::set<std::string> valid(paths.begin(), paths.end());
    size_t from = 0;
    while (from < r.out.size()) {
        auto nl = r.out.find('\n', from);
        if (nl == std::string::npos) nl = r.out.size();
        valid.erase(r.out.substr(from, nl - from));
        from = nl + 1;
    }
    return valid;
}

class QueueRunnerFarmTest : public QueueRunnerFixture {
protected:
    /// Waits until every notification of `channel` expected has arrived.
    void waitForNotifications(const std::string& channel, size_t want)
    {
        auto deadline = std::chrono::steady_clock::now() + 20s;
        while (count(channel) < want && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(50ms);
    }
};

} // namespace

TEST_F(QueueRunnerFarmTest, LayeredDagOfThreeHundredIsBuiltOnceAcrossLocalhostAndTwoHosts)
{
    BuildHost host1, host2;
    auto machines = state_ + "/machines";
    std::ofstream(machines) << "localhost x86_64-linux - 2 1\n"
                            << host1.machinesLine("x86_64-linux", 2) << "\n"
                            << host2.machinesLine("x86_64-linux", 2) << "\n";
    auto g = layeredDag();
    auto drvs = g.derivations();
    ASSERT_EQ(drvs.size(), static_cast<size_t>(layers * width));
    int js = rows_->jobset();
    std::vector<long long> ids;
    for (int i = 0; i < width; ++i) {
        const auto& top = drvs.at(nodeName(layers - 1, i));
        ids.push_back(rows_->queueBuild(js, nodeName(layers - 1, i), top.drvPath, top.out()));
    }
    startRunner(machines);
    waitForFinished(ids, 600s);

    for (auto id : ids) EXPECT_EQ(buildStatus(id), 0) << "build " << id;
    const auto n = static_cast<long long>(drvs.size());
    // Each derivation was built exactly once, whatever number of builds shared it.
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps"), n) << runnerLog();
    EXPECT_EQ(query1<long long>("SELECT count(DISTINCT drvPath) FROM BuildSteps"), n);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildSteps WHERE busy != 0 OR status != 0 "
                                "OR stopTime IS NULL OR startTime IS NULL OR type != 0"),
              0);
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildStepOutputs WHERE name = 'out' AND path IS NOT NULL"),
        n);
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM Builds WHERE finished = 1 AND buildStatus = 0 "
                                "AND notificationPendingSince IS NOT NULL AND stopTime >= startTime"),
              static_cast<long long>(ids.size()));
    EXPECT_EQ(query1<long long>("SELECT count(*) FROM BuildOutputs o JOIN Builds b ON b.id = o.build "
                                "WHERE o.path IS NOT NULL"),
              static_cast<long long>(ids.size()));

    // Every machine took part, and every output it built is in its own store and here.
    std::map<std::string, std::vector<std::string>> byMachine;
    {
        pqxx::read_transaction t(*conn_);
        for (const auto& row : t.exec("SELECT s.machine, o.path FROM BuildSteps s JOIN BuildStepOutputs o "
                                      "ON o.build = s.build AND o.stepnr = s.stepnr"))
            byMachine[row[0].as<std::string>()].push_back(row[1].as<std::string>());
    }
    ASSERT_EQ(byMachine.size(), 3u) << runnerLog();
    for (const auto* host : {&host1, &host2}) {
        const auto& built = byMachine[host->storeUri()];
        EXPECT_FALSE(built.empty()) << host->storeUri() << " built nothing";
        EXPECT_EQ(validOn(*host, built).size(), built.size()) << host->storeUri();
    }
    EXPECT_FALSE(byMachine["localhost"].empty());
    for (const auto& [name, d] : drvs) EXPECT_TRUE(validLocally(d.out())) << name;
    // Remote steps spent time copying; steps on localhost copied nothing.
    EXPECT_EQ(
        query1<long long>("SELECT count(*) FROM BuildSteps WHERE machine = 'localhost' AND overhead != 0"),
        0);

    waitForNotifications("build_finished", ids.size());
    EXPECT_EQ(count("build_finished"), ids.size());
    EXPECT_EQ(count("step_started"), drvs.size());
    EXPECT_EQ(count("step_finished"), drvs.size());
    EXPECT_GE(count("build_started"), 1u);
    EXPECT_LE(count("build_started"), ids.size());
    EXPECT_EQ(stopRunner(), 0);
}
