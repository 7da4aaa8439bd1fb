// Build hosts with their own Nix store behind a real sshd, and derivation graphs built on them:
// the fixtures the queue-runner tests rely on, proven against the real parts.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/sandbox_shell.hh"

#include "util/error.hh"
#include "util/fd.hh"
#include "util/process.hh"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

bool validLocally(const std::string& path)
{
    return exitedOk(run({.argv = {"nix-store", "--check-validity", path}, .setEnv = nixTestEnv()}).status);
}

bool validOn(const BuildHost& host, const std::string& path)
{
    return exitedOk(host.run("nix-store --check-validity " + path).status);
}

/// A build that fails unless it runs in Nix's sandbox: without one (switched off, or Nix
/// falling back when it cannot make one) the host's /usr and /bin/sh are visible.
const std::string sealedScript = "if [ -e /usr ] || [ -e /bin/sh ]; then echo 'the host is visible: not "
                                 "sandboxed' >&2; exit 1; fi; echo sealed > \"$out\"";

/// Copies the graph's expression to the host over ssh and builds `attr` there; returns its out path.
std::string buildOnHost(const BuildHost& host, const NixGraph& graph, const std::string& attr)
{
    auto file = (host.dir() / ("graph-" + graph.nonce() + ".nix")).string();
    host.runChecked("cat > " + file, graph.expression());
    // The expression names the shell by its store path, which the host's store must hold too;
    // /tmp is shared with the host, and the same directory makes the same path.
    host.runChecked("nix-store --add " + sandboxShell().sourceDir);
    return trim(host.runChecked("nix-build --no-out-link -A " + attr + " " + file));
}

std::string u64le(uint64_t v)
{
    std::string s(8, '\0');
    for (size_t i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
}

std::string wireString(const std::string& s)
{
    return u64le(s.size()) + s + std::string((8 - s.size() % 8) % 8, '\0');
}

uint64_t readU64(int fd, Deadline deadline)
{
    unsigned char buf[8];
    size_t got = 0;
    while (got < 8) {
        auto n = readSome(fd, reinterpret_cast<char*>(buf) + got, 8 - got, deadline, "nix-store --serve");
        if (n == 0) throw Error("nix-store --serve closed the connection");
        got += n;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v |= uint64_t{buf[i]} << (8 * i);
    return v;
}

/// "pid (comm) state" of every process in the mount namespace `ns`, empty when there is none.
std::string processesInNamespace(const std::string& ns)
{
    std::string found;
    for (auto& e : std::filesystem::directory_iterator("/proc")) {
        std::error_code ec;
        auto target = std::filesystem::read_symlink(e.path() / "ns" / "mnt", ec);
        if (ec || target.string() != ns) continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        std::getline(stat, line);
        found += line.substr(0, line.find(')') + 3) + "; ";
    }
    return found;
}

bool netnsListed(const std::string& name)
{
    std::istringstream list(runChecked({.argv = {"ip", "netns", "list"}}));
    for (std::string line; std::getline(list, line);)
        if (line.substr(0, line.find(' ')) == name) return true;
    return false;
}

} // namespace

TEST(BuildHost, BuildsInItsOwnStoreWhatTheMachineDoesNotHave)
{
    ASSERT_TRUE(sigpipeIgnored);
    BuildHost host;
    auto graph = NixGraph::chain(2);
    auto expected = graph.derivations(); // evaluated here, built nowhere yet

    auto out = buildOnHost(host, graph, "n1");

    EXPECT_EQ(out, expected.at("n1").out());
    EXPECT_TRUE(validOn(host, out));
    EXPECT_TRUE(validOn(host, expected.at("n0").out())) << "the dependency was built on the host too";
    EXPECT_FALSE(validLocally(out)) << "the machine's own store must not see the host's build";
    EXPECT_NE(host.runChecked("cat " + out).find(graph.nonce()), std::string::npos);
}

TEST(BuildHost, TwoHostsHaveSeparateStores)
{
    BuildHost a, b;
    ASSERT_NE(a.port(), b.port());
    NixGraph ga, gb;
    ga.add("alpha");
    gb.add("beta");

    auto outA = buildOnHost(a, ga, "alpha");
    auto outB = buildOnHost(b, gb, "beta");

    EXPECT_TRUE(validOn(a, outA));
    EXPECT_FALSE(validOn(a, outB));
    EXPECT_TRUE(validOn(b, outB));
    EXPECT_FALSE(validOn(b, outA));
}

TEST(BuildHost, ServeProtocolAnswersOverSsh)
{
    BuildHost host;
    NixGraph graph;
    graph.add("served");
    auto built = buildOnHost(host, graph, "served");
    NixGraph other;
    auto missing = other.add("missing").name;
    auto missingPath = other.derivations().at(missing).out();

    auto serve = Process::spawn(
        {.argv = host.sshCommand("nix-store --serve --write"), .pipeStdin = true, .pipeStdout = true});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    writeAll(serve.in().get(), u64le(0x390c9deb) + u64le(0x206), deadline, "nix-store --serve");
    EXPECT_EQ(readU64(serve.out().get(), deadline), 0x5452eecbu);
    EXPECT_EQ(readU64(serve.out().get(), deadline) >> 8, 2u) << "serve protocol major version";

    // cmdQueryValidPaths (1): no lock, no substitution; the host knows only what it built.
    writeAll(serve.in().get(),
             u64le(1) + u64le(0) + u64le(0) + u64le(2) + wireString(built) + wireString(missingPath),
             deadline, "nix-store --serve");
    ASSERT_EQ(readU64(serve.out().get(), deadline), 1u);
    auto len = readU64(serve.out().get(), deadline);
    std::string path(len + (8 - len % 8) % 8, '\0');
    for (size_t got = 0; got < path.size();)
        got += readSome(serve.out().get(), path.data() + got, path.size() - got, deadline, "serve");
    path.resize(len);
    EXPECT_EQ(path, built);

    serve.in().close();
    auto status = serve.waitUntil(deadline);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(exitedOk(*status)) << statusToString(*status);
}

TEST(BuildHost, MachinesLineCarriesTheKeys)
{
    BuildHost host;
    auto line = host.machinesLine("x86_64-linux", 2, "kvm");
    EXPECT_EQ(
        line.rfind(host.storeUri() + " x86_64-linux " + host.clientKeyFile().string() + " 2 1 kvm - ", 0),
        0u);
    auto decoded = runChecked({.argv = {"base64", "-d"}}, host.publicHostKeyBase64());
    EXPECT_EQ(decoded.rfind("ssh-ed25519 AAAA", 0), 0u) << decoded;
    EXPECT_EQ(host.storeUri(), fmt::format("ssh://root@127.0.0.1:{}", host.port()));
}

TEST(BuildHostNetns, LinkCanBeCutAndRestored)
{
    BuildHost host(HostNetwork::OwnNetns);
    EXPECT_EQ(host.storeUri(), "ssh://root@" + host.address());
    EXPECT_EQ(trim(host.runChecked("echo reachable")), "reachable");

    host.cutLink();
    auto cut = run({.argv = host.sshCommand("true", 2)}, {}, 60s);
    EXPECT_FALSE(exitedOk(cut.status)) << "ssh worked across a cut link";

    host.restoreLink();
    RunResult again;
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < deadline;) {
        again = run({.argv = host.sshCommand("echo back", 2)}, {}, 60s);
        if (exitedOk(again.status)) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(trim(again.out), "back") << again.err;
}

TEST(BuildHostNetns, CutDuringASessionEndsIt)
{
    BuildHost host(HostNetwork::OwnNetns);
    auto argv = host.sshCommand("echo started; exec sleep 300");
    argv.insert(argv.begin() + 1, {"-o", "ServerAliveInterval=1", "-o", "ServerAliveCountMax=2"});
    auto session = Process::spawn({.argv = argv, .pipeStdout = true});
    auto deadline = std::chrono::steady_clock::now() + 60s;
    char buf[8];
    ASSERT_EQ(readSome(session.out().get(), buf, sizeof buf, deadline, "ssh session"), 8u);

    host.cutLink();
    auto status = session.waitUntil(deadline);
    ASSERT_TRUE(status.has_value()) << "the ssh session survived a cut link";
    EXPECT_FALSE(exitedOk(*status));
}

TEST(BuildHostNetns, HostHasItsOwnStoreToo)
{
    BuildHost host(HostNetwork::OwnNetns);
    NixGraph graph;
    graph.add("isolated");
    auto out = buildOnHost(host, graph, "isolated");
    EXPECT_TRUE(validOn(host, out));
    EXPECT_FALSE(validLocally(out));
}

TEST(BuildHost, BuildsInNixsSandbox)
{
    BuildHost host;
    NixGraph graph;
    graph.add("sealed").script = sealedScript;
    auto out = buildOnHost(host, graph, "sealed");
    EXPECT_EQ(trim(host.runChecked("cat " + out)), "sealed");
}

TEST(BuildHostTeardown, LeavesNoProcessNamespaceOrDirectory)
{
    BuildHost host(HostNetwork::OwnNetns);
    BuildHost loopback;
    // A process that outlives its ssh session must still go with the host.
    host.runChecked("nohup sleep 300 >/dev/null 2>&1 < /dev/null &");
    loopback.runChecked("nohup sleep 300 >/dev/null 2>&1 < /dev/null &");
    auto mnt = host.mountNamespace(), loopMnt = loopback.mountNamespace();
    auto netns = host.netnsName(), veth = host.hostVeth();
    auto dir = host.dir(), loopDir = loopback.dir();
    auto pid = host.sshdPid();
    // Held open, the namespaces keep their ids: no new namespace can pass for them below.
    AutoFd heldMnt(::open(fmt::format("/proc/{}/ns/mnt", pid).c_str(), O_RDONLY | O_CLOEXEC));
    AutoFd heldLoopMnt(
        ::open(fmt::format("/proc/{}/ns/mnt", loopback.sshdPid()).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(heldMnt && heldLoopMnt);
    ASSERT_TRUE(netnsListed(netns));
    ASSERT_NE(processesInNamespace(mnt), "");
    ASSERT_NE(processesInNamespace(loopMnt), "");

    host.teardown();
    loopback.teardown();

    EXPECT_EQ(processesInNamespace(mnt), "");
    EXPECT_EQ(processesInNamespace(loopMnt), "");
    EXPECT_NE(::kill(pid, 0), 0) << "sshd still running";
    EXPECT_FALSE(netnsListed(netns));
    EXPECT_FALSE(exitedOk(run({.argv = {"ip", "link", "show", veth}}).status));
    EXPECT_FALSE(std::filesystem::exists(dir));
    EXPECT_FALSE(std::filesystem::exists(loopDir));
}

namespace {

std::vector<std::string> queryLines(const std::vector<std::string>& args)
{
    std::vector<std::string> argv = {"nix-store"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::istringstream in(runChecked({.argv = argv, .setEnv = nixTestEnv()}));
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
}

bool contains(const std::vector<std::string>& v, const std::string& s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

} // namespace

TEST(NixGraph, EveryInstanceGetsFreshPathsUnlessTheNonceIsShared)
{
    auto a = NixGraph::chain(2).instantiate(), b = NixGraph::chain(2).instantiate();
    EXPECT_NE(a.at("n1"), b.at("n1"));
    EXPECT_EQ(NixGraph("fixed-nonce").instantiate(), NixGraph("fixed-nonce").instantiate());
    EXPECT_TRUE(a.at("n0").ends_with("-n0.drv")) << a.at("n0");
    EXPECT_NE(NixGraph::chain(1).expression().find("nonce"), std::string::npos);
}

TEST(NixGraph, ShapesHaveTheirEdges)
{
    auto chain = NixGraph::chain(3).instantiate();
    EXPECT_TRUE(contains(queryLines({"--query", "--references", chain.at("n2")}), chain.at("n1")));
    EXPECT_FALSE(contains(queryLines({"--query", "--references", chain.at("n2")}), chain.at("n0")));

    auto diamond = NixGraph::diamond().instantiate();
    auto bottomInputs = queryLines({"--query", "--requisites", diamond.at("bottom")});
    for (auto n : {"top", "left", "right"}) EXPECT_TRUE(contains(bottomInputs, diamond.at(n))) << n;

    auto fan = NixGraph::fanIn(5).instantiate();
    EXPECT_EQ(fan.size(), 6u);
    auto rootInputs = queryLines({"--query", "--references", fan.at("root")});
    EXPECT_EQ(rootInputs.size(), 6u) << "one input per leaf, and the shell";
    EXPECT_TRUE(contains(rootInputs, sandboxShell().storePath));
}

TEST(NixGraph, BuildsRunInNixsSandboxOnTheShellFromTheStore)
{
    NixGraph g;
    g.add("sealed").script = sealedScript;
    auto built = g.build();
    std::ifstream f(built.at("sealed").out());
    std::string line;
    std::getline(f, line);
    EXPECT_EQ(line, "sealed");
}

TEST(NixGraph, ClosureHoldsExactlyNPathsWhileFanInKeepsLeavesOut)
{
    auto closure = NixGraph::closure(4).build();
    EXPECT_EQ(queryLines({"--query", "--requisites", closure.at("top").out()}).size(), 4u);

    auto fan = NixGraph::fanIn(3).build();
    EXPECT_EQ(queryLines({"--query", "--requisites", fan.at("root").out()}).size(), 1u);
    EXPECT_TRUE(validLocally(fan.at("leaf2").out()));
}

TEST(NixGraph, MultipleOutputsCanBeDependedOnSeparately)
{
    NixGraph g;
    g.add("lib").outputs = {"out", "dev"};
    g.add("app", {"lib.dev"});
    auto built = g.build();
    auto& lib = built.at("lib");
    ASSERT_EQ(lib.outputs.size(), 2u);
    EXPECT_TRUE(validLocally(lib.outputs.at("dev")));
    auto refs = queryLines({"--query", "--references", built.at("app").out()});
    EXPECT_TRUE(contains(refs, lib.outputs.at("dev")));
    EXPECT_FALSE(contains(refs, lib.out()));
}

TEST(NixGraph, ScriptsMisbehaveAsAsked)
{
    NixGraph g;
    g.add("broken").script = scripts::failing(3);
    g.add("markedFailed").script = scripts::failedWithOutput();
    g.add("chatty").script = scripts::bigLog(2000);
    g.add("slow").script = scripts::sleeping(1);
    g.add("odd").script = "echo '${not-nix}' \"quoted\" \\\\ > $out";

    EXPECT_THROW(g.build({"broken"}), Error);
    auto built = g.build({"markedFailed", "chatty", "slow", "odd"});
    EXPECT_TRUE(std::filesystem::exists(built.at("markedFailed").out() + "/nix-support/failed"));
    auto log =
        runChecked({.argv = {"nix-store", "--read-log", built.at("chatty").drvPath}, .setEnv = nixTestEnv()});
    EXPECT_NE(log.find("log line 1999 of"), std::string::npos);
    EXPECT_TRUE(validLocally(built.at("slow").out()));
    std::ifstream odd(built.at("odd").out());
    std::string content((std::istreambuf_iterator<char>(odd)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content, "${not-nix} quoted \\\n");
}

TEST(NixGraph, WrittenExpressionEvaluatesWithNixInstantiate)
{
    auto g = NixGraph::diamond();
    auto dir = std::filesystem::temp_directory_path() / ("hydra-graph-test-" + g.nonce());
    std::filesystem::create_directories(dir);
    auto file = g.writeTo(dir, "release.nix");
    auto out =
        runChecked({.argv = {"nix-instantiate", file.string(), "-A", "bottom"}, .setEnv = nixTestEnv()});
    std::filesystem::remove_all(dir);
    EXPECT_EQ(trim(out), g.instantiate().at("bottom"));
}
