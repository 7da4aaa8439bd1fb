// Closure copying between real stores: the local Nix store and a build host's own store behind
// sshd. Inputs go out references first and only once; a build there sends its outputs back.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/sandbox_shell.hh"

#include "nix/closure_copy.hh"
#include "nix/derivation.hh"
#include "nix/machine_connection.hh"
#include "nix/machines.hh"
#include "util/error.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::nix;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

std::string readFile(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (!l.empty()) out.push_back(l);
    return out;
}

/// Asks the local store through the real nix-store command line (not through our code).
std::vector<std::string> localQuery(const std::string& flag, const std::string& path)
{
    return lines(runChecked({.argv = {"nix-store", "--query", flag, path}, .setEnv = nixTestEnv()}));
}

bool validLocally(const std::string& path)
{
    return exitedOk(run({.argv = {"nix-store", "--check-validity", path}, .setEnv = nixTestEnv()}).status);
}

bool allValidOn(const BuildHost& host, const std::vector<std::string>& paths)
{
    std::string cmd = "nix-store --check-validity";
    for (auto& p : paths) cmd += " " + p;
    return exitedOk(host.run(cmd).status);
}

ConnectionOptions testOptions()
{
    ConnectionOptions o;
    o.setEnv = nixTestEnv();
    o.ssh.configFile = "/dev/null";
    o.ssh.connectTimeout = 10;
    return o;
}

CopyOptions copyOptions()
{
    return {.substitute = false, .local = testOptions()};
}

Machine machineFor(const BuildHost& host)
{
    return parseMachines(host.machinesLine("x86_64-linux"), "test machines").at(0);
}

/// closure(20) with a chain c1 <- c2 <- c3 on top (so the order really matters), built
/// locally; and "fresh", depending on c3, evaluated but not built.
struct Graph {
    NixGraph graph = NixGraph::closure(20);
    std::map<std::string, NixDrv> drvs;

    Graph()
    {
        graph.add("c1", {"top"});
        graph.add("c2", {"c1"});
        graph.add("c3", {"c2"});
        graph.add("fresh", {"c3"}).script =
            "echo \"fresh-log-$nonce\" >&2; echo \"$nonce fresh $deps\" > \"$out\"";
        drvs = graph.build({"c3"});
    }
};

const Graph& graph()
{
    static const Graph g;
    return g;
}

/// The paths a derivation's builder needs: its input sources and its inputs' outputs.
std::set<std::string> buildInputs(const Derivation& drv)
{
    std::set<std::string> in = drv.inputSrcs;
    for (auto& [drvPath, outputs] : drv.inputDrvs) {
        auto input = parseDerivation(readFile(drvPath), drvPath);
        for (auto& o : outputs) in.insert(input.outputs.at(o).path);
    }
    return in;
}

class ClosureCopy : public ::testing::Test {
protected:
    BuildHost host_;
    MachineConnection conn_{machineFor(host_), testOptions(),
                            [this](std::string_view chunk) { log_.lock()->append(chunk); }};
    Sync<std::string> log_;
};

} // namespace

TEST_F(ClosureCopy, SendsTheClosureReferencesFirstAndOnlyOnce)
{
    auto top = graph().drvs.at("c3").out();
    auto closure = localQuery("--requisites", top);
    ASSERT_EQ(closure.size(), 23u);

    auto stats = copyClosureTo(conn_.client(), {top}, copyOptions());
    ASSERT_EQ(std::set<std::string>(stats.paths.begin(), stats.paths.end()),
              std::set<std::string>(closure.begin(), closure.end()));
    EXPECT_EQ(stats.paths.size(), closure.size()); // each once
    EXPECT_GT(stats.narBytes, 0u);
    // Every path went after everything it references (as the local store records them).
    for (size_t i = 0; i < stats.paths.size(); ++i)
        for (auto& ref : localQuery("--references", stats.paths[i])) {
            if (ref == stats.paths[i]) continue;
            auto at = std::find(stats.paths.begin(), stats.paths.end(), ref) - stats.paths.begin();
            EXPECT_LT(static_cast<size_t>(at), i)
                << stats.paths[i] << " was sent before its reference " << ref;
        }
    EXPECT_TRUE(allValidOn(host_, closure));
    // The host recorded the same references.
    EXPECT_EQ(lines(host_.runChecked("nix-store --query --references " + top)),
              localQuery("--references", top));

    auto again = copyClosureTo(conn_.client(), {top}, copyOptions());
    EXPECT_TRUE(again.paths.empty());
    EXPECT_EQ(again.narBytes, 0u);
}

TEST_F(ClosureCopy, SendsOnlyWhatTheMachineLacks)
{
    auto& d = graph().drvs;
    auto first = copyClosureTo(conn_.client(), {d.at("c1").out()}, copyOptions());
    EXPECT_EQ(first.paths.size(), 21u); // the closure of top, and c1
    auto second = copyClosureTo(conn_.client(), {d.at("c3").out()}, copyOptions());
    EXPECT_EQ(second.paths, (std::vector<std::string>{d.at("c2").out(), d.at("c3").out()}));
}

TEST_F(ClosureCopy, SubstitutionIsItsOwnStep)
{
    auto p0 = graph().drvs.at("p0").out();
    // The host has no caches: substitution finds nothing, and the copy then sends the path.
    EXPECT_EQ(substituteMissing(conn_.client(), {p0}), std::set<std::string>{p0});
    auto opts = copyOptions();
    opts.substitute = true;
    auto stats = copyClosureTo(conn_.client(), {p0}, opts);
    EXPECT_EQ(stats.paths, std::vector<std::string>{p0});
    EXPECT_TRUE(allValidOn(host_, {p0}));
}

TEST_F(ClosureCopy, BuildsThereAndBringsTheOutputsBack)
{
    const auto& fresh = graph().drvs.at("fresh");
    auto drv = parseDerivation(readFile(fresh.drvPath), fresh.drvPath);
    auto inputs = buildInputs(drv);
    // The shell is an input source: the host builds with the copy it gets with the inputs.
    EXPECT_EQ(inputs, (std::set<std::string>{graph().drvs.at("c3").out(), sandboxShell().storePath}));
    copyClosureTo(conn_.client(), inputs, copyOptions());

    ASSERT_FALSE(validLocally(fresh.out()));
    serve::BuildResult result;
    {
        auto scope = conn_.expect("the result of building " + fresh.drvPath, 5min);
        result = conn_.client().buildDerivation(fresh.drvPath, drv, {});
    }
    ASSERT_EQ(result.status, serve::BuildStatus::Built) << result.errorMsg << "\nlog: " << *log_.lock();
    for (int i = 0; i < 100 && log_.lock()->find("fresh-log-") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_NE(log_.lock()->find("fresh-log-" + graph().graph.nonce()), std::string::npos);

    auto back = copyClosureFrom(conn_.client(), {fresh.out()}, copyOptions());
    // Its inputs were already here: only the new output travels.
    EXPECT_EQ(back.paths, std::vector<std::string>{fresh.out()});
    EXPECT_TRUE(
        exitedOk(run({.argv = {"nix-store", "--verify-path", fresh.out()}, .setEnv = nixTestEnv()}).status));
    EXPECT_EQ(localQuery("--deriver", fresh.out()), std::vector<std::string>{fresh.drvPath});
    EXPECT_NE(readFile(fresh.out()).find(graph().graph.nonce() + " fresh"), std::string::npos);
}

TEST(ReferencesFirst, OrdersByReferencesAndRejectsCycles)
{
    auto info = [](std::string p, std::set<std::string> refs) {
        serve::PathInfo i;
        i.path = std::move(p);
        i.references = std::move(refs);
        return i;
    };
    auto ordered =
        referencesFirst({info("/a", {"/c", "/a"}), info("/b", {}), info("/c", {"/b", "/elsewhere"})});
    std::vector<std::string> paths;
    for (auto& i : ordered) paths.push_back(i.path);
    EXPECT_EQ(paths, (std::vector<std::string>{"/b", "/c", "/a"}));
    EXPECT_THROW(referencesFirst({info("/a", {"/b"}), info("/b", {"/a"})}), Error);
}
