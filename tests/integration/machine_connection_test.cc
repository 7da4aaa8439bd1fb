// MachineConnection against real parts: the local nix-store, build hosts behind a real sshd
// (pinned host keys, a link cut in the middle of a NAR), the build log, and clean closing.

#include "harness/build_host.hh"
#include "harness/nix_graph.hh"
#include "harness/sandbox_shell.hh"

#include "nix/derivation.hh"
#include "nix/machine_connection.hh"
#include "nix/machines.hh"
#include "util/error.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include "support/scoped_env.hh"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>

using namespace hydra;
using namespace hydra::nix;
using namespace hydra::test;
using namespace std::chrono_literals;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

Machine localhost()
{
    return parseMachines("localhost x86_64-linux", "test machines").at(0);
}

Machine machineFor(const BuildHost& host)
{
    return parseMachines(host.machinesLine("x86_64-linux"), "test machines").at(0);
}

/// Test connections: no substituters, no operator ssh config, short but safe timeouts.
ConnectionOptions testOptions()
{
    ConnectionOptions o;
    o.setEnv = nixTestEnv();
    o.ssh.configFile = "/dev/null";
    o.ssh.connectTimeout = 10;
    o.handshakeTimeout = 60s;
    o.readTimeout = 60s;
    return o;
}

std::string connectError(const Machine& m, const ConnectionOptions& o = testOptions())
{
    try {
        MachineConnection c(m, o);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

size_t openFdCount()
{
    size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

bool processExists(pid_t pid)
{
    return std::filesystem::exists(fmt::format("/proc/{}", pid));
}

/// An executable shell script in a fresh directory, removed afterwards.
class Script {
public:
    explicit Script(const std::string& body)
    {
        auto tmpl = (std::filesystem::temp_directory_path() / "hydra-conn-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throwSysError("mkdtemp");
        dir_ = tmpl;
        std::ofstream(path()) << "#!/bin/sh\n" << body << "\n";
        std::filesystem::permissions(path(), std::filesystem::perms::owner_all);
    }
    ~Script() { std::filesystem::remove_all(dir_); }
    std::string path() const { return (dir_ / "serve").string(); }

private:
    std::filesystem::path dir_;
};

std::string readFile(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

} // namespace

TEST(MachineConnection, LocalhostHandshakeReportsMinor7)
{
    MachineConnection conn(localhost(), testOptions());
    EXPECT_EQ(conn.client().serverMinor(), 7u);
    EXPECT_EQ(conn.machineName(), "localhost");
    auto missing = "/nix/store/00000000000000000000000000000000-hydra-conn-missing";
    EXPECT_TRUE(conn.client().queryValidPaths({missing}).empty());
}

TEST(MachineConnection, MissingNixStoreIsBlamedOnNixStoreNotSsh)
{
    auto empty = std::filesystem::temp_directory_path() / "hydra-conn-empty-path";
    std::filesystem::create_directories(empty);
    ScopedEnv path("PATH", empty.string());
    EXPECT_EQ(connectError(localhost()),
              "cannot connect to ‘localhost’: error: cannot start nix-store: No such file or directory");
}

TEST(MachineConnection, NamedProgramThatDoesNotExist)
{
    auto o = testOptions();
    o.nixStore = "/nonexistent/nix-store";
    EXPECT_EQ(connectError(localhost(), o), "cannot connect to ‘localhost’: error: cannot start "
                                            "/nonexistent/nix-store: No such file or directory");
}

TEST(MachineConnection, MissingSshIsBlamedOnSsh)
{
    auto empty = std::filesystem::temp_directory_path() / "hydra-conn-empty-path";
    std::filesystem::create_directories(empty);
    ScopedEnv path("PATH", empty.string());
    auto m = parseMachines("ssh://root@builder.invalid x86_64-linux", "test machines").at(0);
    EXPECT_EQ(
        connectError(m),
        "cannot connect to ‘ssh://root@builder.invalid’: error: cannot start ssh: No such file or directory");
}

TEST(MachineConnection, SilentPeerTimesOutNamingMachineAndGreeting)
{
    Script silent("exec sleep 600");
    auto o = testOptions();
    o.nixStore = silent.path();
    o.handshakeTimeout = 1s;
    try {
        MachineConnection c(localhost(), o);
        FAIL() << "a silent server was accepted";
    } catch (const TimeoutError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("cannot connect to ‘localhost’"), std::string::npos) << msg;
        EXPECT_NE(msg.find("serve protocol greeting"), std::string::npos) << msg;
    }
}

TEST(MachineConnection, ChattyStderrWhileStdoutIsIdleDoesNotBlock)
{
    // 4 MiB on stderr before the server answers: far more than a pipe holds, so the greeting
    // only arrives if stderr is drained meanwhile.
    Script chatty("head -c 4194304 /dev/zero | tr '\\0' 'x' >&2; exec nix-store --serve --write");
    auto o = testOptions();
    o.nixStore = chatty.path();
    o.handshakeTimeout = 30s;
    Sync<size_t> logged;
    MachineConnection conn(localhost(), o, [&](std::string_view chunk) { *logged.lock() += chunk.size(); });
    EXPECT_EQ(conn.client().serverMinor(), 7u);
    EXPECT_EQ(*logged.lock(), 4194304u);
}

TEST(MachineConnection, ServerErrorCarriesItsStderr)
{
    MachineConnection conn(localhost(), testOptions());
    // QueryClosure of an invalid path makes nix-store --serve fail and exit.
    auto bogus = "/nix/store/00000000000000000000000000000000-hydra-conn-not-there";
    try {
        conn.client().queryClosure({bogus}, false);
        FAIL() << "closure of an invalid path succeeded";
    } catch (const Error& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("‘localhost’"), std::string::npos) << msg;
        EXPECT_NE(msg.find("hydra-conn-not-there"), std::string::npos) << msg;
    }
}

TEST(MachineConnection, CloseLeavesNoZombieAndNoDescriptor)
{
    auto before = openFdCount();
    pid_t pid = -1;
    {
        MachineConnection conn(localhost(), testOptions(), [](std::string_view) {});
        pid = conn.pid();
        ASSERT_GT(pid, 0);
        EXPECT_GT(openFdCount(), before);
        conn.close();
        EXPECT_EQ(conn.pid(), -1);
        EXPECT_FALSE(processExists(pid)) << "nix-store --serve (pid " << pid << ") is still around";
        EXPECT_EQ(openFdCount(), before);
        EXPECT_THROW(conn.client(), Error);
    }
    EXPECT_EQ(openFdCount(), before);
    // A failed connection cleans up as well.
    Script silent("exec sleep 600");
    auto o = testOptions();
    o.nixStore = silent.path();
    o.handshakeTimeout = 200ms;
    EXPECT_THROW(MachineConnection(localhost(), o), TimeoutError);
    EXPECT_EQ(openFdCount(), before);
}

class SshConnection : public ::testing::Test {
protected:
    BuildHost host_;
};

TEST_F(SshConnection, HandshakeWithPinnedHostKey)
{
    auto before = openFdCount();
    MachineConnection conn(machineFor(host_), testOptions());
    EXPECT_EQ(conn.client().serverMinor(), 7u);
    EXPECT_EQ(conn.machineName(), host_.storeUri());
    auto missing = "/nix/store/00000000000000000000000000000000-hydra-conn-missing";
    EXPECT_TRUE(conn.client().queryValidPaths({missing}).empty());
    pid_t pid = conn.pid();
    conn.close();
    EXPECT_FALSE(processExists(pid));
    EXPECT_EQ(openFdCount(), before); // the pinned known_hosts file too
}

TEST_F(SshConnection, AnotherHostsKeyFailsHostKeyVerification)
{
    BuildHost other;
    auto m = machineFor(host_);
    auto impostor = machineFor(other);
    m.publicHostKey = impostor.publicHostKey;
    m.publicHostKeyText = impostor.publicHostKeyText;
    auto before = openFdCount();
    auto msg = connectError(m);
    EXPECT_EQ(msg.rfind("cannot connect to ‘" + host_.storeUri() + "’: error: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("Host key verification failed"), std::string::npos) << msg;
    EXPECT_EQ(openFdCount(), before);
}

TEST_F(SshConnection, RefusedConnectionShowsSshsReason)
{
    auto m = machineFor(host_);
    host_.teardown(); // nothing listens on its port any more
    auto msg = connectError(m);
    EXPECT_EQ(msg.rfind("cannot connect to ‘" + m.storeUri + "’: error: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("Connection refused"), std::string::npos) << msg;
    EXPECT_NE(msg.find("ssh exited with status 255"), std::string::npos) << msg;
}

TEST_F(SshConnection, BuildLogArrivesInTheSink)
{
    NixGraph g;
    g.add("chatty").script = "echo \"marker-$nonce\" >&2; " + scripts::bigLog(20000);
    auto drv = g.derivations().at("chatty");
    auto parsed = parseDerivation(readFile(drv.drvPath), drv.drvPath);
    // The builder's shell, an input source, as the queue runner would have copied it; /tmp is
    // shared with the host, and the same directory makes the same store path.
    host_.runChecked("nix-store --add " + sandboxShell().sourceDir);
    Sync<std::string> log;
    MachineConnection conn(machineFor(host_), testOptions(),
                           [&](std::string_view chunk) { log.lock()->append(chunk); });
    auto scope = conn.expect("the result of building " + drv.drvPath, 5min);
    auto result = conn.client().buildDerivation(drv.drvPath, parsed, {});
    ASSERT_EQ(result.status, serve::BuildStatus::Built) << result.errorMsg;
    // The log is read on its own thread: give it a moment to catch up with the result.
    auto complete = [&] { return log.lock()->find("log line 19999 of") != std::string::npos; };
    for (int i = 0; i < 200 && !complete(); ++i) std::this_thread::sleep_for(50ms);
    auto text = *log.lock();
    EXPECT_NE(text.find("marker-" + g.nonce()), std::string::npos);
    EXPECT_TRUE(complete()) << text.size() << " bytes of log";
}

TEST(SshLinkCut, LinkCutMidNarEndsWithTimeoutError)
{
    BuildHost host(HostNetwork::OwnNetns);
    // 200 MB of incompressible data in the host's store: far more than socket buffers hold.
    auto big = host.runChecked("f=$(mktemp) && head -c 200000000 /dev/urandom > $f && "
                               "nix-store --add $f && rm -f $f",
                               {}, 5min);
    while (!big.empty() && big.back() == '\n') big.pop_back();
    ASSERT_EQ(big.rfind("/nix/store/", 0), 0u) << big;

    auto o = testOptions();
    o.readTimeout = 3s;
    MachineConnection conn(machineFor(host), o);
    struct CuttingSink : Sink {
        BuildHost& host;
        uint64_t bytes = 0;
        explicit CuttingSink(BuildHost& h) : host(h) {}
        void write(std::string_view d) override
        {
            if (bytes == 0) host.cutLink(); // after the first bytes have arrived
            bytes += d.size();
        }
    } sink(host);
    try {
        conn.client().dumpStorePath(big, sink);
        FAIL() << "the whole NAR arrived over a cut link";
    } catch (const TimeoutError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find(host.storeUri()), std::string::npos) << msg;
        EXPECT_NE(msg.find("DumpStorePath"), std::string::npos) << msg;
    }
    EXPECT_GT(sink.bytes, 0u);
    EXPECT_LT(sink.bytes, 200000000u);
    pid_t pid = conn.pid();
    conn.close();
    EXPECT_FALSE(processExists(pid));
}
