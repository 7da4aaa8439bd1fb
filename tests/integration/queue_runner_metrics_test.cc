// hydra-queue-runner's Prometheus metrics over HTTP on queue_runner_metrics_address, read
// with a real HTTP client after a real run; a metrics port already taken does not stop the
// runner from building.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/queue_runner_fixture.hh"
#include "util/fd.hh"

#include <fstream>
#include <httplib.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

/// A TCP socket listening on 127.0.0.1 at a port the kernel chose.
struct Listening {
    AutoFd fd;
    int port = 0;
};

Listening listenOnSomePort()
{
    Listening l{AutoFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), 0};
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr); // NOLINT: the sockets API
    if (l.fd.get() < 0 || ::bind(l.fd.get(), sa, len) != 0 || ::listen(l.fd.get(), 1) != 0 ||
        ::getsockname(l.fd.get(), sa, &len) != 0)
        throw std::runtime_error("cannot listen on 127.0.0.1");
    l.port = ntohs(addr.sin_port);
    return l;
}

/// A port free at the time of asking (the kernel does not hand it out again at once).
int freePort()
{
    return listenOnSomePort().port;
}

/// The value of the sample line `nameAndLabels value`, or nullopt.
std::optional<double> sample(const std::string& text, const std::string& nameAndLabels)
{
    std::string prefix = nameAndLabels + " ";
    for (size_t at = 0; (at = text.find(prefix, at)) != std::string::npos; at += prefix.size())
        if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + prefix.size()));
    return std::nullopt;
}

/// A label value as the exposition text writes it.
std::string escapeForLabel(const std::string& v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        out += c;
    }
    return out;
}

httplib::Result get(int port, const std::string& path)
{
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(5s);
    client.set_read_timeout(10s);
    client.set_write_timeout(5s);
    return client.Get(path.c_str());
}

class QueueRunnerMetricsTest : public QueueRunnerFixture {};

} // namespace

TEST_F(QueueRunnerMetricsTest, MetricsAndStatusCountWhatARealRunBuilt)
{
    int port = freePort();
    addConfig("queue_runner_metrics_address = 127.0.0.1:" + std::to_string(port) + "\n");
    NixGraph g;
    g.add("base");
    g.add("middle", {"base"});
    g.add("top", {"middle"});
    g.add("alone");
    auto drvs = g.derivations();
    int js = rows_->jobset();
    auto top = rows_->queueBuild(js, "top", drvs.at("top").drvPath, drvs.at("top").out());
    auto alone = rows_->queueBuild(js, "alone", drvs.at("alone").drvPath, drvs.at("alone").out());
    startRunner();
    waitForFinished({top, alone});
    ASSERT_EQ(buildStatus(top), 0);
    ASSERT_EQ(buildStatus(alone), 0);
    auto built = query1<long long>("SELECT count(*) FROM BuildSteps WHERE status = 0");
    ASSERT_EQ(built, 4) << runnerLog();

    auto res = get(port, "/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error()) << "\n" << runnerLog();
    EXPECT_EQ(res->status, 200);
    EXPECT_NE(res->get_header_value("Content-Type").find("version=0.0.4"), std::string::npos);
    const auto& text = res->body;
    EXPECT_NE(text.find("# TYPE hydra_steps_done_total counter\n"), std::string::npos) << text;
    EXPECT_EQ(sample(text, "hydra_steps_done_total"), 4) << text;
    EXPECT_EQ(sample(text, "hydra_builds_done_total"), 2) << text;
    EXPECT_EQ(sample(text, "hydra_queue_builds_queued"), 0) << text;
    EXPECT_EQ(sample(text, "hydra_steps_runnable"), 0) << text;
    EXPECT_EQ(sample(text, "hydra_machine_steps_done_total{machine=\"localhost\"}"), 4) << text;
    EXPECT_EQ(sample(text, "hydra_machine_current_jobs{machine=\"localhost\"}"), 0) << text;
    EXPECT_EQ(sample(text, "hydra_machine_enabled{machine=\"localhost\"}"), 1) << text;
    EXPECT_EQ(sample(text, "hydra_db_connections_max"), 8) << text;
    EXPECT_EQ(sample(text, "hydra_steps_active{stage=\"building\"}"), 0) << text;
    auto other = get(port, "/");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 404);

    // --status tells the same figures.
    auto r = run({.argv = {queueRunnerBinary(), "--status"}, .setEnv = runnerEnv()}, {}, 30s);
    ASSERT_TRUE(exitedOk(r.status)) << r.err;
    auto status = nlohmann::json::parse(r.out);
    EXPECT_EQ(status.at("nrStepsDone"), 4) << r.out;
    EXPECT_EQ(status.at("nrBuildsDone"), 2) << r.out;
    EXPECT_EQ(status.at("nrActiveSteps"), 0) << r.out;
    EXPECT_EQ(status.at("nrStepsBuilding"), 0) << r.out;
    EXPECT_EQ(status.at("nrRetries"), 0) << r.out;

    EXPECT_EQ(stopRunner(), 0);
    EXPECT_FALSE(get(port, "/metrics")) << "metrics still served after the runner stopped";
}

TEST_F(QueueRunnerMetricsTest, ATakenMetricsPortIsNamedAndTheRunnerStillBuilds)
{
    auto taken = listenOnSomePort();
    auto address = "127.0.0.1:" + std::to_string(taken.port);
    addConfig("queue_runner_metrics_address = " + address + "\n");
    NixGraph g;
    g.add("built-anyway");
    auto drvs = g.derivations();
    auto id = rows_->queueBuild(rows_->jobset(), "built-anyway", drvs.at("built-anyway").drvPath,
                                drvs.at("built-anyway").out());
    startRunner();
    waitForFinished({id});
    EXPECT_EQ(buildStatus(id), 0);
    auto log = runnerLog();
    EXPECT_NE(log.find("cannot listen on " + address), std::string::npos) << log;
    EXPECT_EQ(stopRunner(), 0);
}

TEST_F(QueueRunnerMetricsTest, BytesCopiedToAndFromARemoteMachineAreCounted)
{
    BuildHost host;
    int port = freePort();
    addConfig("queue_runner_metrics_address = 127.0.0.1:" + std::to_string(port) + "\n");
    auto machines = state_ + "/machines";
    std::ofstream(machines) << host.machinesLine("x86_64-linux", 1) << "\n";
    NixGraph g;
    g.add("remote-input");
    g.add("remote-top", {"remote-input"});
    // The input is built here first: the host gets it sent, then builds remote-top.
    auto drvs = g.build({"remote-input"});
    ASSERT_TRUE(validLocally(drvs.at("remote-input").out()));
    auto id = rows_->queueBuild(rows_->jobset(), "remote-top", drvs.at("remote-top").drvPath,
                                drvs.at("remote-top").out());
    startRunner(machines);
    waitForFinished({id});
    ASSERT_EQ(buildStatus(id), 0) << runnerLog();

    auto res = get(port, "/metrics");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    const auto& text = res->body;
    // remote-top needs remote-input's output sent, and its own output comes back.
    EXPECT_GT(sample(text, "hydra_bytes_sent_total").value_or(0), 0) << text;
    EXPECT_GT(sample(text, "hydra_bytes_received_total").value_or(0), 0) << text;
    const auto m = "{machine=\"" + escapeForLabel(host.storeUri()) + "\"}";
    EXPECT_EQ(sample(text, "hydra_machine_steps_done_total" + m), 1) << text;
    EXPECT_EQ(sample(text, "hydra_machine_consecutive_failures" + m), 0) << text;
    EXPECT_EQ(sample(text, "hydra_steps_done_total"), 1) << text;
    EXPECT_EQ(stopRunner(), 0);
}
