// The serve-protocol client against the real `nix-store --serve --write` of this machine.

#include "harness/sandbox_shell.hh"
#include "nix/derivation.hh"
#include "nix/hash.hh"
#include "nix/nar.hh"
#include "nix/serve_protocol.hh"
#include "nix/wire.hh"
#include "util/error.hh"
#include "util/fd.hh"
#include "util/process.hh"
#include "util/sync.hh"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

using namespace hydra;
using namespace hydra::nix;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> nixEnv()
{
    return {{"NIX_CONFIG", "substituters ="}};
}

std::string randomNonce()
{
    std::random_device rd;
    return fmt::format("{:016x}", (uint64_t{rd()} << 32) | rd());
}

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string nixCommand(std::vector<std::string> argv)
{
    return trimmed(runChecked({.argv = std::move(argv), .setEnv = nixEnv()}, {}, 5min));
}

/// Instantiates a derivation running `script` with the tests' shell; returns its .drv path.
std::string instantiate(const std::string& name, const std::string& script)
{
    auto expr = fmt::format(R"(derivation {{ name = "{}"; system = builtins.currentSystem;
        builder = {}; args = [ "-c" ''{}'' ]; }})",
                            name, test::shellBuilder(), script);
    return nixCommand({"nix-instantiate", "--expr", expr});
}

std::string readFile(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// A running `nix-store --serve --write` with a client on its pipes and its stderr collected.
class ServeLocal : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::signal(SIGPIPE, SIG_IGN);
        startSession();
    }

    void TearDown() override { endSession(); }

    void startSession()
    {
        proc_.emplace(Process::spawn({.argv = {"nix-store", "--serve", "--write"},
                                      .setEnv = nixEnv(),
                                      .pipeStdin = true,
                                      .pipeStdout = true,
                                      .pipeStderr = true}));
        from_.emplace(proc_->out().get(), "nix-store --serve on localhost", 60s);
        to_.emplace(proc_->in().get(), "nix-store --serve on localhost", 60s);
        stderrReader_ = std::jthread([this] { collectStderr(); });
        client_.emplace(*from_, *to_);
        client_->handshake();
    }

    /// Closing stdin ends the server's command loop; it must then exit by itself.
    void endSession()
    {
        client_.reset();
        proc_->in().close();
        auto status = proc_->waitUntil(std::chrono::steady_clock::now() + 10s);
        EXPECT_TRUE(status && exitedOk(*status)) << "nix-store --serve did not exit cleanly";
        proc_->terminate();
        stderrReader_.join();
    }

    void collectStderr()
    {
        char buf[4096];
        try {
            auto deadline = std::chrono::steady_clock::now() + 10min;
            while (size_t n = readSome(proc_->err().get(), buf, sizeof buf, deadline, "stderr"))
                stderr_.lock()->append(buf, n);
        } catch (const Error&) {
        }
    }

    std::string stderrText() { return *stderr_.lock(); }

    std::optional<Process> proc_;
    std::optional<FdSource> from_;
    std::optional<FdSink> to_;
    std::optional<serve::ServeClient> client_;
    Sync<std::string> stderr_;
    std::jthread stderrReader_;
};

} // namespace

TEST_F(ServeLocal, HandshakeReportsProtocol27)
{
    EXPECT_EQ(client_->serverVersion(), 0x207u);
}

TEST_F(ServeLocal, QueryValidPathsSeparatesValidFromMissing)
{
    auto drv = instantiate("hydra-wire-valid-" + randomNonce(), "echo hi > $out");
    std::string missing = "/nix/store/00000000000000000000000000000000-hydra-wire-missing";
    auto valid = client_->queryValidPaths({drv, missing});
    EXPECT_EQ(valid, std::set<std::string>{drv});
}

TEST_F(ServeLocal, BuildDerivationReportsBuiltOutputs)
{
    auto nonce = randomNonce();
    auto drvPath = instantiate("hydra-wire-build-" + nonce, "echo built-" + nonce + " > $out");
    auto drv = parseDerivation(readFile(drvPath), drvPath);
    auto result = client_->buildDerivation(drvPath, drv, {.maxLogSize = 1 << 20});
    ASSERT_EQ(result.status, serve::BuildStatus::Built) << result.errorMsg;
    EXPECT_EQ(result.timesBuilt, 1u);
    EXPECT_LE(result.startTime, result.stopTime);
    ASSERT_EQ(result.builtOutputs.size(), 1u);
    const auto& [id, realisation] = *result.builtOutputs.begin();
    EXPECT_EQ(realisation.outputName(), "out");
    // Nix 2.8: "sha256:<base-16 hash modulo>!out", and the output's base name.
    EXPECT_TRUE(id.starts_with("sha256:") && id.ends_with("!out") && id.size() == 7 + 64 + 4) << id;
    auto outPath = drv.outputs.at("out").path;
    EXPECT_EQ("/nix/store/" + realisation.outPath, outPath);
    EXPECT_EQ(readFile(outPath), "built-" + nonce + "\n");
}

TEST_F(ServeLocal, FailingBuilderIsPermanentFailureWithLogOnStderr)
{
    auto nonce = randomNonce();
    auto drvPath = instantiate("hydra-wire-fail-" + nonce, "echo failing-log-" + nonce + " >&2; exit 1");
    auto drv = parseDerivation(readFile(drvPath), drvPath);
    auto result = client_->buildDerivation(drvPath, drv, {});
    EXPECT_EQ(result.status, serve::BuildStatus::PermanentFailure) << result.errorMsg;
    EXPECT_NE(result.errorMsg.find("failed"), std::string::npos) << result.errorMsg;
    // The log is written before the reply; give the reader thread a moment to collect it.
    for (int i = 0; i < 100 && stderrText().find("failing-log-" + nonce) == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    EXPECT_NE(stderrText().find("failing-log-" + nonce), std::string::npos) << stderrText();
}

TEST_F(ServeLocal, BuildPathsReportsSuccessAndFailure)
{
    auto nonce = randomNonce();
    auto good = instantiate("hydra-wire-bp-good-" + nonce, "echo " + nonce + " > $out");
    auto bad = instantiate("hydra-wire-bp-bad-" + nonce, "exit 1");
    EXPECT_EQ(client_->buildPaths({good + "!out"}, {}), serve::BuildPathsResult{});
    auto failed = client_->buildPaths({bad + "!out"}, {});
    EXPECT_NE(failed.status, 0u);
    EXPECT_NE(failed.errorMsg.find(bad), std::string::npos) << failed.errorMsg;
    // The session survives a failed build.
    EXPECT_EQ(client_->queryValidPaths({good}), std::set<std::string>{good});
}

/// A built store path holding a directory, a plain file, an executable and a symlink.
class ServeLocalTree : public ServeLocal {
protected:
    void SetUp() override
    {
        ServeLocal::SetUp();
        auto nonce = randomNonce();
        auto drv = instantiate("hydra-wire-tree-" + nonce,
                               "mkdir -p $out/sub/deeper; echo " + nonce +
                                   " > $out/b; printf 'no newline' > $out/a; "
                                   "echo '#!/bin/sh' > $out/sub/run; chmod +x $out/sub/run; "
                                   "ln -s ../b $out/sub/link; : > $out/sub/deeper/empty");
        path_ = nixCommand({"nix-store", "--realise", drv});
    }
    std::string path_;
};

TEST_F(ServeLocalTree, DumpStorePathMatchesTheRecordedNarHash)
{
    StringSink nar;
    client_->dumpStorePath(path_, nar);
    EXPECT_EQ(hashString(nar.data()).toTyped(), nixCommand({"nix-store", "--query", "--hash", path_}));
    // The session stays usable after a NAR of unannounced length.
    EXPECT_EQ(client_->queryValidPaths({path_}), std::set<std::string>{path_});
}

TEST_F(ServeLocalTree, NarWriterMatchesNixStoreDump)
{
    StringSink ours;
    dumpPath(path_, ours);
    auto theirs = runChecked({.argv = {"nix-store", "--dump", path_}, .setEnv = nixEnv()});
    EXPECT_EQ(ours.data(), theirs);
}

TEST_F(ServeLocalTree, QueryPathInfosAndClosure)
{
    auto infos = client_->queryPathInfos({path_, "/nix/store/00000000000000000000000000000000-missing"});
    ASSERT_EQ(infos.size(), 1u) << "missing paths are left out";
    EXPECT_EQ(infos[0].path, path_);
    EXPECT_EQ(infos[0].narHash, nixCommand({"nix-store", "--query", "--hash", path_}));
    StringSink nar;
    dumpPath(path_, nar);
    EXPECT_EQ(infos[0].narSize, nar.data().size());
    EXPECT_TRUE(infos[0].deriver.ends_with(".drv")) << infos[0].deriver;
    EXPECT_EQ(client_->queryClosure({path_}, false), std::set<std::string>{path_});
}

/// A path added with `nix-store --add`: content-addressed, so it can be deleted and restored.
class ServeLocalAdded : public ServeLocal {
protected:
    void SetUp() override
    {
        ServeLocal::SetUp();
        dir_ = std::filesystem::temp_directory_path() / fmt::format("hydra-wire-add-{}", randomNonce());
        std::filesystem::create_directories(dir_ / "sub");
        std::ofstream(dir_ / "sub" / "file") << "content " << randomNonce();
        path_ = nixCommand({"nix-store", "--add", dir_.string()});
    }
    void TearDown() override
    {
        std::filesystem::remove_all(dir_);
        ServeLocal::TearDown();
    }
    /// Deletes the path, then reconnects: a server caches what it knows to be valid.
    void deletePath()
    {
        endSession();
        nixCommand({"nix-store", "--delete", path_});
        startSession();
    }
    bool valid() { return client_->queryValidPaths({path_}) == std::set<std::string>{path_}; }

    std::filesystem::path dir_;
    std::string path_;
};

TEST_F(ServeLocalAdded, ExportThenImportRestoresADeletedPath)
{
    StringSink stream;
    auto entries = client_->exportPaths({path_}, stream);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, path_);
    deletePath();
    ASSERT_FALSE(valid());
    client_->importPaths([&](Sink& s) { s.write(stream.data()); });
    EXPECT_TRUE(valid());
}

TEST_F(ServeLocalAdded, AddToStoreNarRestoresADeletedPath)
{
    auto infos = client_->queryPathInfos({path_});
    ASSERT_EQ(infos.size(), 1u);
    StringSink nar;
    client_->dumpStorePath(path_, nar);
    deletePath();
    ASSERT_FALSE(valid());
    client_->addToStoreNar(
        {.path = path_, .narHash = infos[0].narHash, .narSize = nar.data().size(), .ca = infos[0].ca},
        [&](Sink& s) { s.write(nar.data()); });
    EXPECT_TRUE(valid());
    StringSink again;
    dumpPath(path_, again);
    EXPECT_EQ(again.data(), nar.data());
}
