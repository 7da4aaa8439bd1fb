// The CompressLog and EmailNotification plugins against a real PostgreSQL and a real SMTP
// server (Debian's aiosmtpd, started by the test): who gets mail, with which envelope, subject,
// headers and body; no mail when the status did not change; an unreachable server is an error
// naming it, so the daemon retries.

#include "db/connection_pool.hh"
#include "db/schema.hh"
#include "harness/hydra_rows.hh"
#include "harness/pg_fixture.hh"
#include "notify/compress_log.hh"
#include "notify/email.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>

using namespace hydra;
using namespace hydra::notify;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const bool sigpipeIgnored = [] { return std::signal(SIGPIPE, SIG_IGN) != SIG_ERR; }();

/// An SMTP server that writes each message it accepts as NNNN.json: envelope, decoded headers
/// and decoded body (so the test also checks the encoding with a real mail parser).
constexpr const char* receiverScript = R"PY(
import asyncio, email, email.policy, json, os, sys
from aiosmtpd.smtp import SMTP

class Handler:
    def __init__(self, out):
        self.out, self.n = out, 0
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        doc = {"from": envelope.mail_from, "rcpt": envelope.rcpt_tos,
               "headers": {k: str(v) for k, v in msg.items()},
               "body": msg.get_content().replace("\r\n", "\n")}
        tmp = os.path.join(self.out, ".tmp")
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.rename(tmp, os.path.join(self.out, "%04d.json" % self.n))
        return "250 OK"

loop = asyncio.new_event_loop()
handler = Handler(sys.argv[1])
server = loop.run_until_complete(loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0))
print(server.sockets[0].getsockname()[1], flush=True)
loop.run_forever()
)PY";

/// A Python that has aiosmtpd (Debian's python3-aiosmtpd is for the system's python3).
std::string pythonWithAiosmtpd()
{
    for (std::string py : {"/usr/bin/python3", "python3"}) {
        try {
            if (exitedOk(run({.argv = {py, "-c", "import aiosmtpd"}}, {}, 60s).status)) return py;
        } catch (const Error&) {
        }
    }
    return {};
}

/// The receiver process and the directory it writes messages to.
class SmtpReceiver {
public:
    SmtpReceiver() : dir_(test::makeTempDir("smtp-receiver"))
    {
        std::string py = pythonWithAiosmtpd();
        if (py.empty()) throw Error("no python3 with aiosmtpd (scripts/setup.sh installs python3-aiosmtpd)");
        std::ofstream(fs::path(dir_) / "receiver.py") << receiverScript;
        fs::create_directory(fs::path(dir_) / "mail");
        proc_ = Process::spawn(
            {.argv = {py, (fs::path(dir_) / "receiver.py").string(), (fs::path(dir_) / "mail").string()},
             .pipeStdout = true,
             .dieWithParent = true});
        std::string line;
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (line.find('\n') == std::string::npos) {
            char buf[64];
            size_t n = readSome(proc_->out().get(), buf, sizeof buf, deadline, "the SMTP receiver's port");
            if (n == 0) throw Error("the SMTP receiver exited before it listened");
            line.append(buf, n);
        }
        port_ = static_cast<uint16_t>(std::stoi(line));
    }
    ~SmtpReceiver()
    {
        proc_.reset();
        fs::remove_all(dir_);
    }
    SmtpReceiver(const SmtpReceiver&) = delete;
    SmtpReceiver& operator=(const SmtpReceiver&) = delete;

    uint16_t port() const { return port_; }

    /// The messages received so far, in order.
    std::vector<nlohmann::json> messages() const
    {
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(fs::path(dir_) / "mail"))
            if (e.path().extension() == ".json") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        std::vector<nlohmann::json> out;
        for (const auto& f : files) out.push_back(nlohmann::json::parse(std::ifstream(f)));
        return out;
    }

private:
    std::string dir_;
    std::optional<Process> proc_;
    uint16_t port_ = 0;
};

/// A loopback port nothing listens on (bound, then released).
uint16_t closedPort()
{
    AutoFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
        throwSysError("binding a loopback port");
    return ntohs(a.sin_port);
}

class NotifyCompressEmail : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto& pg = test::PgCluster::get();
        conninfo = pg.conninfo(pg.freshDatabase());
        conn.emplace(conninfo);
        db::initSchema(*conn);
        pool.emplace(db::PoolOptions{.conninfo = conninfo, .maxConnections = 2});
        dataDir = test::makeTempDir("notify-data");
        config.notify.emailNotification = true;
        config.notify.notificationSender = "hydra@example.org";
        config.notify.smtp.host = "127.0.0.1";
        config.web.baseUri = "https://hydra.example.org";
    }
    void TearDown() override { fs::remove_all(dataDir); }

    int jobset(const std::string& name, const std::string& emailOverride, bool enableEmail = true)
    {
        int id = test::HydraRows(*conn).jobset(name);
        pqxx::work t(*conn);
        t.exec_params("UPDATE Jobsets SET emailOverride = $1, enableEmail = $2 WHERE id = $3", emailOverride,
                      enableEmail ? 1 : 0, id);
        t.commit();
        return id;
    }

    long long finishedBuild(int jobsetId, const std::string& job, int status,
                            const std::string& maintainers = "")
    {
        pqxx::work t(*conn);
        auto r = t.exec_params1(
            "INSERT INTO Builds (finished, timestamp, jobset_id, job, nixName, drvPath, system, maintainers, "
            "buildStatus, startTime, stopTime) VALUES (1, 1700000000, $1, $2, $2, '/nix/store/aaaa-' || $2 "
            "|| "
            "'.drv', 'x86_64-linux', $3, $4, 1700000001, 1700000002) RETURNING id",
            jobsetId, job, maintainers, status);
        t.commit();
        return r[0].as<long long>();
    }

    void finish(const std::string& payload, uint16_t port)
    {
        config.notify.smtp.port = port;
        auto plugin = makeEmail(config);
        ASSERT_NE(plugin, nullptr);
        PluginContext ctx{*pool, config, dataDir};
        plugin->handle(Event::parse("build_finished", payload), ctx);
    }

    std::string conninfo;
    std::optional<pqxx::connection> conn;
    std::optional<db::ConnectionPool> pool;
    std::string dataDir;
    HydraConfig config;
};

} // namespace

TEST_F(NotifyCompressEmail, AStatusChangeMailsEachMaintainerWithHydrasSubjectHeadersAndBody)
{
    SmtpReceiver smtp;
    int js = jobset("js", "");
    finishedBuild(js, "hello", 0, "alice@example.org");
    auto failed = finishedBuild(js, "hello", 1, "alice@example.org, bob@example.org");

    finish(std::to_string(failed), smtp.port());

    auto mails = smtp.messages();
    ASSERT_EQ(mails.size(), 2u);
    std::string expectedBody =
        "Hi,\n\nThe status of Hydra job ‘p:js:hello’ (on x86_64-linux) has changed from "
        "\"Success\" to \"Failed\".  For details, see\n\n  https://hydra.example.org/build/" +
        std::to_string(failed) + "\n\nGo forth and fix it.\n\nRegards,\n\nThe Hydra build daemon.\n";
    std::vector<std::string> to;
    for (const auto& m : mails) {
        ASSERT_EQ(m["rcpt"].size(), 1u);
        to.push_back(m["rcpt"][0]);
        EXPECT_EQ(m["from"], "hydra@example.org");
        const auto& h = m["headers"];
        EXPECT_EQ(h["To"], m["rcpt"][0]);
        EXPECT_EQ(h["From"], "Hydra Build Daemon <hydra@example.org>");
        EXPECT_EQ(h["Subject"], "Failed: Hydra job p:js:hello on x86_64-linux");
        EXPECT_EQ(h["X-Hydra-Instance"], "https://hydra.example.org");
        EXPECT_EQ(h["X-Hydra-Project"], "p");
        EXPECT_EQ(h["X-Hydra-Jobset"], "js");
        EXPECT_EQ(h["X-Hydra-Job"], "hello");
        EXPECT_EQ(h["X-Hydra-System"], "x86_64-linux");
        EXPECT_EQ(m["body"], expectedBody);
    }
    std::sort(to.begin(), to.end());
    EXPECT_EQ(to, (std::vector<std::string>{"alice@example.org", "bob@example.org"}));
}

TEST_F(NotifyCompressEmail, AnUnchangedStatusSendsNoMail)
{
    SmtpReceiver smtp;
    int js = jobset("js", "");
    finishedBuild(js, "hello", 1, "alice@example.org");
    finishedBuild(js, "hello", 4, "alice@example.org"); // cancelled builds do not count as previous
    auto again = finishedBuild(js, "hello", 1, "alice@example.org");

    finish(std::to_string(again), smtp.port());

    EXPECT_TRUE(smtp.messages().empty());
}

TEST_F(NotifyCompressEmail, TheFirstBuildIsMailedToTheJobsetsOverride)
{
    SmtpReceiver smtp;
    int js = jobset("js", "team@example.org,  lead@example.org");
    auto first = finishedBuild(js, "tests.x86_64-linux", 0, "alice@example.org");

    finish(std::to_string(first), smtp.port());

    auto mails = smtp.messages();
    ASSERT_EQ(mails.size(), 2u);
    std::vector<std::string> to;
    for (const auto& m : mails) {
        to.push_back(m["rcpt"][0]);
        // The job's name holds the system: Hydra leaves " on <system>" out.
        EXPECT_EQ(m["headers"]["Subject"], "Success: Hydra job p:js:tests.x86_64-linux");
        EXPECT_EQ(m["body"],
                  "Hi,\n\nThe status of Hydra job ‘p:js:tests.x86_64-linux’ is \"Success\".  For details, "
                  "see\n\n  https://hydra.example.org/build/" +
                      std::to_string(first) + "\n\nYay!\n\nRegards,\n\nThe Hydra build daemon.\n");
    }
    std::sort(to.begin(), to.end());
    EXPECT_EQ(to, (std::vector<std::string>{"lead@example.org", "team@example.org"}));
}

TEST_F(NotifyCompressEmail, DependentsAreListedAndJobsetsWithoutMailAreSkipped)
{
    SmtpReceiver smtp;
    int js = jobset("js", "");
    int quiet = jobset("quiet", "", false);
    auto top = finishedBuild(js, "lib", 1, "alice@example.org");
    auto dep = finishedBuild(js, "app", 2, "alice@example.org");
    auto muted = finishedBuild(quiet, "tool", 2, "carol@example.org");

    finish(fmt::format("{}\t{}\t{}", top, dep, muted), smtp.port());

    auto mails = smtp.messages();
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(mails[0]["rcpt"], nlohmann::json::array({"alice@example.org"}));
    EXPECT_EQ(mails[0]["headers"]["Subject"], "Failed: Hydra job p:js:lib on x86_64-linux (and 1 others)");
    std::string body = mails[0]["body"];
    EXPECT_NE(body.find(fmt::format("The following dependent jobs also failed:\n\n* p:js:app "
                                    "(https://hydra.example.org/build/{})\n\nGo forth and fix them.\n",
                                    dep)),
              std::string::npos)
        << body;
}

TEST_F(NotifyCompressEmail, AnUnreachableServerIsAnErrorNamingIt)
{
    int js = jobset("js", "");
    auto b = finishedBuild(js, "hello", 1, "alice@example.org");
    auto port = closedPort();
    try {
        finish(std::to_string(b), port);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(fmt::format("127.0.0.1:{}", port)), std::string::npos)
            << e.what();
    }
}

TEST_F(NotifyCompressEmail, ABuildThatNoLongerExistsIsNoError)
{
    SmtpReceiver smtp;
    EXPECT_NO_THROW(finish("999999", smtp.port()));
    EXPECT_TRUE(smtp.messages().empty());
}

TEST_F(NotifyCompressEmail, EmailOffMeansNoPlugin)
{
    config.notify.emailNotification = false;
    EXPECT_EQ(makeEmail(config), nullptr);
}

TEST_F(NotifyCompressEmail, CompressLogCompressesAStepsLogUnderTheDataDir)
{
    config.notify.compressBuildLogs = true;
    config.notify.compression = LogCompression::Zstd;
    auto plugin = makeCompressLog(config);
    ASSERT_NE(plugin, nullptr);
    auto log = fs::path(dataDir) / "build-logs" / "aa" / "aaaa-hello.drv";
    fs::create_directories(log.parent_path());
    std::ofstream(log) << "building hello\nok\n";
    PluginContext ctx{*pool, config, dataDir};

    plugin->handle(Event::parse("step_finished", "1\t1\t" + log.string()), ctx);

    EXPECT_FALSE(fs::exists(log));
    auto out = runChecked(
        {.argv = {"zstd", "-d", "-c", log.string() + ".zst"}, .pipeStdout = true, .pipeStderr = true});
    EXPECT_EQ(out, "building hello\nok\n");
}
