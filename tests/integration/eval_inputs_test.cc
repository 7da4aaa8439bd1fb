// Jobset inputs as hydra-evaluator fetches them, with real git repositories, the real Nix
// store and a real PostgreSQL: each input type's JobsetEvalInputs row and Nix argument, git
// branches, new commits, pinned revisions, unreachable and hanging remotes, concurrent fetches
// of one repository, 'build' inputs, and locking a flake.

#include "db/schema.hh"
#include "evaluator/input_fetcher.hh"
#include "harness/hydra_rows.hh"
#include "harness/pg_fixture.hh"
#include "support/temp_files.hh"
#include "util/process.hh"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace hydra;
using namespace hydra::evaluator;
using namespace std::chrono_literals;
using hydra::test::HydraRows;
using hydra::test::PgCluster;

namespace {

const bool setUp = [] {
    std::signal(SIGPIPE, SIG_IGN);
    ::setenv("NIX_CONFIG", "substituters =", 0); // no network: no binary cache
    return true;
}();

std::string trim(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string readFile(const std::filesystem::path& p)
{
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

db::JobsetInput input(const std::string& name, const std::string& type, const std::string& value,
                      std::optional<std::string> revision = std::nullopt)
{
    return db::JobsetInput{name, type, false, {db::InputAlt{0, value, std::move(revision)}}};
}

db::JobsetDefinition jobsetDef()
{
    db::JobsetDefinition j;
    j.project = "p";
    j.name = "js";
    j.nixExprInput = "src";
    j.nixExprPath = "release.nix";
    return j;
}

// A git work repository with a "main" branch, committed to by the test.
class GitRepo {
public:
    explicit GitRepo(std::filesystem::path dir) : dir_(std::move(dir))
    {
        std::filesystem::create_directories(dir_);
        git({"init", "--quiet", "--initial-branch=main"});
    }
    // Writes `file`, commits everything; returns the new commit's hash.
    std::string commit(const std::string& file, const std::string& text, bool allowEmpty = false)
    {
        if (!file.empty()) std::ofstream(dir_ / file) << text;
        git({"add", "--all"});
        std::vector<std::string> args{"commit", "--quiet", "-m", "change"};
        if (allowEmpty) args.push_back("--allow-empty");
        git(args);
        return head();
    }
    std::string head() { return git({"rev-parse", "HEAD"}); }
    std::string url() const { return "file://" + dir_.string(); }
    std::string git(std::vector<std::string> args)
    {
        ProcessOptions o;
        o.argv = {"git", "-C", dir_.string(), "-c", "user.name=Test", "-c", "user.email=test@example.org"};
        o.argv.insert(o.argv.end(), args.begin(), args.end());
        return trim(runChecked(o));
    }

private:
    std::filesystem::path dir_;
};

class EvalInputsTest : public hydra::test::TempFilesTest {
protected:
    void SetUp() override
    {
        TempFilesTest::SetUp();
        pool = std::make_unique<db::ConnectionPool>(db::PoolOptions{.conninfo = conninfo});
        fetcher = std::make_unique<InputFetcher>(FetchOptions{dir / "data", 60s}, *pool);
    }

    FetchedInput fetch(const db::JobsetInput& in) { return fetcher->fetch(jobsetDef(), in, {}).value(); }

    // The InputError that fetching `in` throws (fails the test if it succeeds).
    std::string fetchError(const db::JobsetInput& in, std::stop_token stop = {})
    {
        try {
            fetcher->fetch(jobsetDef(), in, stop);
        } catch (const InputError& e) {
            return e.what();
        }
        ADD_FAILURE() << "fetching input " << in.name << " succeeded";
        return "";
    }

    std::string conninfo = "dbname=unused";
    std::unique_ptr<db::ConnectionPool> pool;
    std::unique_ptr<InputFetcher> fetcher;
};

TEST_F(EvalInputsTest, StringBooleanAndNixBecomeArguments)
{
    auto s = fetch(input("name", "string", "hello \"world\""));
    EXPECT_EQ(s.arg.name, "name");
    EXPECT_EQ(s.arg.kind, NixArg::Kind::String);
    EXPECT_EQ(s.arg.value, "hello \"world\"");
    EXPECT_EQ(s.record.name, "name");
    EXPECT_EQ(s.record.type, "string");
    EXPECT_EQ(s.record.altNr, 0);
    EXPECT_EQ(s.record.value, "hello \"world\"");
    EXPECT_FALSE(s.record.path);

    auto b = fetch(input("flag", "boolean", "false"));
    EXPECT_EQ(b.arg.kind, NixArg::Kind::Expr);
    EXPECT_EQ(b.arg.value, "false");
    EXPECT_EQ(b.record.value, "false");

    auto n = fetch(input("sys", "nix", "[ \"x86_64-linux\" ]"));
    EXPECT_EQ(n.arg.kind, NixArg::Kind::Expr);
    EXPECT_EQ(n.arg.value, "[ \"x86_64-linux\" ]");
    EXPECT_EQ(n.record.type, "nix");
}

TEST_F(EvalInputsTest, BadValuesAndTypesAreErrorsNamingTheInput)
{
    auto e = fetchError(input("flag", "boolean", "maybe"));
    EXPECT_NE(e.find("input ‘flag’"), std::string::npos) << e;
    EXPECT_NE(e.find("maybe"), std::string::npos) << e;

    e = fetchError(db::JobsetInput{"src", "git", false, {}});
    EXPECT_NE(e.find("input ‘src’ has no value"), std::string::npos) << e;
    e = fetchError(input("src", "path", ""));
    EXPECT_NE(e.find("input ‘src’ has no value"), std::string::npos) << e;

    for (std::string type : {"eval", "sysbuild", "svn"}) {
        e = fetchError(input("x", type, "1"));
        EXPECT_NE(e.find("input type ‘" + type + "’ is not supported"), std::string::npos) << e;
    }
}

TEST_F(EvalInputsTest, PathInputIsAddedToTheStore)
{
    write("tree/default.nix", "{ }: 42\n");
    auto f = fetch(input("src", "path", (dir / "tree").string()));
    ASSERT_TRUE(f.record.path);
    EXPECT_TRUE(f.record.path->starts_with("/nix/store/")) << *f.record.path;
    EXPECT_TRUE(f.record.path->ends_with("-tree")) << *f.record.path;
    EXPECT_EQ(readFile(*f.record.path + "/default.nix"), "{ }: 42\n");
    EXPECT_EQ(f.record.uri, (dir / "tree").string());
    ProcessOptions q;
    q.argv = {"nix-store", "--query", "--hash", *f.record.path};
    EXPECT_EQ("sha256:" + f.record.sha256hash.value_or(""), trim(runChecked(q)));
    EXPECT_EQ(f.arg.kind, NixArg::Kind::Expr);
    EXPECT_EQ(f.arg.value, "{ outPath = builtins.storePath \"" + *f.record.path + "\"; }");

    auto e = fetchError(input("src", "path", "https://example.org/x.tar.gz"));
    EXPECT_NE(e.find("input ‘src’"), std::string::npos) << e;
    EXPECT_NE(e.find("only local paths are supported"), std::string::npos) << e;
    e = fetchError(input("src", "path", (dir / "missing").string()));
    EXPECT_NE(e.find((dir / "missing").string()), std::string::npos) << e;
}

TEST_F(EvalInputsTest, GitBranchFollowsNewCommitsAndSameTreeGivesSamePath)
{
    GitRepo repo(dir / "repo");
    auto first = repo.commit("release.nix", "{ }: { a = 1; }\n");
    repo.git({"tag", "-a", "-m", "release", "v1.0"});
    auto in = input("src", "git", repo.url() + " main");

    auto f1 = fetch(in);
    EXPECT_EQ(f1.record.revision, first);
    EXPECT_EQ(f1.record.uri, repo.url());
    ASSERT_TRUE(f1.record.path);
    EXPECT_EQ(readFile(*f1.record.path + "/release.nix"), "{ }: { a = 1; }\n");
    EXPECT_FALSE(std::filesystem::exists(*f1.record.path + "/.git"));
    EXPECT_FALSE(f1.record.sha256hash.value_or("").empty());
    EXPECT_EQ(f1.arg.kind, NixArg::Kind::Expr);
    EXPECT_EQ(f1.arg.value, "{ outPath = builtins.storePath \"" + *f1.record.path +
                                "\"; inputType = \"git\"; uri = \"" + repo.url() + "\"; rev = \"" + first +
                                "\"; shortRev = \"" + first.substr(0, 7) +
                                "\"; revCount = 1; gitTag = \"v1.0\"; }");

    auto second = repo.commit("release.nix", "{ }: { a = 2; }\n");
    auto f2 = fetch(in);
    EXPECT_EQ(f2.record.revision, second);
    EXPECT_NE(f2.record.path, f1.record.path);
    EXPECT_EQ(readFile(*f2.record.path + "/release.nix"), "{ }: { a = 2; }\n");
    EXPECT_NE(f2.arg.value.find("revCount = 2;"), std::string::npos) << f2.arg.value;
    EXPECT_NE(f2.arg.value.find("gitTag = \"v1.0-1-g" + second.substr(0, 7)), std::string::npos)
        << f2.arg.value;

    auto third = repo.commit("", "", true); // a new commit with the same tree
    auto f3 = fetch(in);
    EXPECT_EQ(f3.record.revision, third);
    EXPECT_EQ(f3.record.path, f2.record.path);
    EXPECT_EQ(f3.record.sha256hash, f2.record.sha256hash);
}

TEST_F(EvalInputsTest, GitWithoutBranchUsesTheRemoteHeadAndOtherBranchesAreSeparate)
{
    GitRepo repo(dir / "repo");
    auto onMain = repo.commit("f", "main\n");
    repo.git({"checkout", "--quiet", "-b", "dev"});
    auto onDev = repo.commit("f", "dev\n");
    repo.git({"checkout", "--quiet", "main"});

    auto head = fetch(input("src", "git", repo.url()));
    EXPECT_EQ(head.record.revision, onMain);
    auto dev = fetch(input("src", "git", repo.url() + " dev"));
    EXPECT_EQ(dev.record.revision, onDev);
    EXPECT_EQ(readFile(*dev.record.path + "/f"), "dev\n");
    auto deep = fetch(input("src", "git", repo.url() + " dev 1"));
    EXPECT_EQ(deep.record.revision, onDev);
}

TEST_F(EvalInputsTest, GitPinnedRevisionIsUsedInsteadOfTheBranchHead)
{
    GitRepo repo(dir / "repo");
    auto first = repo.commit("f", "one\n");
    repo.commit("f", "two\n");
    auto f = fetch(input("src", "git", repo.url() + " main", first));
    EXPECT_EQ(f.record.revision, first);
    EXPECT_EQ(readFile(*f.record.path + "/f"), "one\n");
    EXPECT_NE(f.arg.value.find("revCount = 1;"), std::string::npos) << f.arg.value;

    // An abbreviated pin resolves to the full hash.
    auto g = fetch(input("src", "git", repo.url() + " main", first.substr(0, 10)));
    EXPECT_EQ(g.record.revision, first);

    auto e = fetchError(input("src", "git", repo.url() + " main", "--upload-pack=touch"));
    EXPECT_NE(e.find("the pinned revision ‘--upload-pack=touch’ is not a commit hash"), std::string::npos)
        << e;
    e = fetchError(input("src", "git", repo.url() + " main", std::string(40, 'f')));
    EXPECT_NE(e.find("input ‘src’ (git " + repo.url() + " main)"), std::string::npos) << e;
}

TEST_F(EvalInputsTest, GitValueNamingACommitChecksItOutOnWhicheverBranchItIs)
{
    GitRepo repo(dir / "repo");
    auto first = repo.commit("f", "one\n");
    repo.git({"checkout", "--quiet", "-b", "dev"});
    auto onDev = repo.commit("f", "dev\n");
    repo.git({"checkout", "--quiet", "main"});
    repo.commit("f", "three\n");

    auto f = fetch(input("src", "git", repo.url() + " " + first));
    EXPECT_EQ(f.record.revision, first);
    EXPECT_EQ(readFile(*f.record.path + "/f"), "one\n");
    auto d = fetch(input("src", "git", repo.url() + " " + onDev + " 1"));
    EXPECT_EQ(d.record.revision, onDev);
    EXPECT_EQ(readFile(*d.record.path + "/f"), "dev\n");
    EXPECT_NE(d.arg.value.find("revCount = 2;"), std::string::npos) << d.arg.value;
}

TEST_F(EvalInputsTest, GitDeepCloneKeepsTheHistoryAndGivesOneStorePathPerCommit)
{
    GitRepo repo(dir / "repo");
    repo.commit("f", "one\n");
    repo.git({"tag", "-a", "v1", "-m", "v1"});
    auto second = repo.commit("f", "two\n");

    auto deep = fetch(input("src", "git", repo.url() + " main 1"));
    EXPECT_EQ(deep.record.revision, second);
    EXPECT_EQ(readFile(*deep.record.path + "/f"), "two\n");
    ProcessOptions describe;
    describe.argv = {"git", "--git-dir=" + *deep.record.path + "/.git", "describe", "--tags", "HEAD"};
    EXPECT_EQ(trim(runChecked(describe)), "v1-1-g" + second.substr(0, 7));
    EXPECT_EQ(fetch(input("src", "git", repo.url() + " main 1")).record.path, deep.record.path);
    EXPECT_FALSE(
        std::filesystem::exists(*fetch(input("src", "git", repo.url() + " main")).record.path + "/.git"));
}

TEST_F(EvalInputsTest, UnreachableGitRepositoriesAreInputErrors)
{
    auto e = fetchError(input("src", "git", "file:///nonexistent"));
    EXPECT_NE(e.find("input ‘src’ (git file:///nonexistent)"), std::string::npos) << e;
    EXPECT_NE(e.find("git fetch failed: fatal: '/nonexistent' does not appear to be a git repository"),
              std::string::npos)
        << e;

    e = fetchError(input("src", "git", "http://127.0.0.1:1/x.git main"));
    EXPECT_NE(e.find("input ‘src’ (git http://127.0.0.1:1/x.git main)"), std::string::npos) << e;
    EXPECT_NE(e.find("git fetch failed: fatal:"), std::string::npos) << e;

    GitRepo repo(dir / "repo");
    repo.commit("f", "x\n");
    e = fetchError(input("src", "git", repo.url() + " no-such-branch"));
    EXPECT_NE(e.find("git fetch failed:"), std::string::npos) << e;
    EXPECT_NE(e.find("no-such-branch"), std::string::npos) << e;
}

// A TCP port that accepts connections (the kernel does, from the backlog) and never answers.
class SilentServer {
public:
    SilentServer() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0))
    {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
            throw std::runtime_error("cannot listen");
        port_ = ntohs(a.sin_port);
    }
    ~SilentServer() { ::close(fd_); }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/x.git"; }

private:
    int fd_;
    int port_ = 0;
};

TEST_F(EvalInputsTest, AHangingGitRemoteTimesOutAndAStopEndsTheFetch)
{
    SilentServer server;
    InputFetcher quick(FetchOptions{dir / "data", 2s}, *pool);
    try {
        quick.fetch(jobsetDef(), input("src", "git", server.url()), {});
        ADD_FAILURE() << "fetching from a silent server succeeded";
    } catch (const InputError& e) {
        std::string msg = e.what();
        EXPECT_NE(msg.find("input ‘src’ (git " + server.url() + ")"), std::string::npos) << msg;
        EXPECT_NE(msg.find("timed out"), std::string::npos) << msg;
    }

    std::stop_source stop;
    std::jthread stopper([&] {
        std::this_thread::sleep_for(300ms);
        stop.request_stop();
    });
    auto e = fetchError(input("src", "git", server.url()), stop.get_token());
    EXPECT_NE(e.find("git fetch was interrupted"), std::string::npos) << e;
}

TEST_F(EvalInputsTest, TwoFetchersOfOneRepositoryAtOnceBothSucceed)
{
    GitRepo repo(dir / "repo");
    auto head = repo.commit("f", "x\n");
    InputFetcher other(FetchOptions{dir / "data", 60s}, *pool);
    std::vector<FetchedInput> got(4);
    std::vector<std::string> errors(4);
    {
        std::vector<std::jthread> threads;
        for (size_t i = 0; i < got.size(); ++i)
            threads.emplace_back([&, i] {
                try {
                    got[i] = (i % 2 ? other : *fetcher)
                                 .fetch(jobsetDef(), input("src", "git", repo.url()), {})
                                 .value();
                } catch (const std::exception& e) {
                    errors[i] = e.what();
                }
            });
    }
    for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(errors[i], "");
        EXPECT_EQ(got[i].record.revision, head);
        EXPECT_EQ(got[i].record.path, got[0].record.path);
    }
}

TEST_F(EvalInputsTest, LockFlakeReturnsTheLockedUrl)
{
    write("flake/flake.nix", "{ outputs = { self }: { hydraJobs = { }; }; }\n");
    auto url = fetcher->lockFlake("path:" + (dir / "flake").string(), {});
    EXPECT_TRUE(url.starts_with("path:" + (dir / "flake").string())) << url;
    EXPECT_NE(url.find("narHash=sha256-"), std::string::npos) << url;

    try {
        fetcher->lockFlake("path:" + (dir / "noflake").string(), {});
        ADD_FAILURE() << "locking a missing flake succeeded";
    } catch (const InputError& e) {
        EXPECT_NE(std::string(e.what()).find("flake ‘path:" + (dir / "noflake").string() + "’"),
                  std::string::npos)
            << e.what();
    }
}

// 'build' inputs against a real database: the latest successful build of a job.
class BuildInputTest : public EvalInputsTest {
protected:
    void SetUp() override
    {
        auto& pg = PgCluster::get();
        conninfo = pg.conninfo(pg.freshDatabase());
        conn = std::make_unique<pqxx::connection>(conninfo);
        db::initSchema(*conn);
        jobsetId = HydraRows(*conn).jobset("js");
        otherJobsetId = HydraRows(*conn).jobset("other");
        EvalInputsTest::SetUp();
        write("out/hello", "hi\n");
        ProcessOptions add;
        add.argv = {"nix-store", "--add", (dir / "out").string()};
        outPath = trim(runChecked(add));
    }

    // A build of `job` that finished with `status`.
    long long finishedBuild(int jobset, const std::string& job, const std::string& out, int status)
    {
        auto id = HydraRows(*conn).queueBuild(jobset, job,
                                              "/nix/store/00000000000000000000000000000000-x.drv", out);
        pqxx::work t(*conn);
        t.exec_params("UPDATE Builds SET finished = 1, buildStatus = $2, startTime = 1, stopTime = 2 "
                      "WHERE id = $1",
                      id, status);
        t.commit();
        return id;
    }

    std::unique_ptr<pqxx::connection> conn;
    int jobsetId = 0, otherJobsetId = 0;
    std::string outPath;
};

TEST_F(BuildInputTest, NoSuccessfulBuildGivesNoValue)
{
    HydraRows(*conn).queueBuild(jobsetId, "hello", "/nix/store/00000000000000000000000000000000-x.drv",
                                outPath);
    finishedBuild(jobsetId, "hello", outPath, 1);
    EXPECT_FALSE(fetcher->fetch(jobsetDef(), input("dep", "build", "hello"), {}));
    EXPECT_FALSE(fetcher->fetch(jobsetDef(), input("dep", "build", "p:nosuch:hello"), {}));
}

TEST_F(BuildInputTest, LatestSuccessfulBuildBecomesTheArgument)
{
    finishedBuild(jobsetId, "hello", outPath, 0);
    auto latest = finishedBuild(jobsetId, "hello", outPath, 0);
    finishedBuild(jobsetId, "hello", outPath, 1); // failed later: not used
    finishedBuild(otherJobsetId, "hello", outPath, 0);

    auto f = fetch(input("dep", "build", "hello"));
    EXPECT_EQ(f.record.dependency, latest);
    EXPECT_EQ(f.record.path, outPath);
    EXPECT_EQ(f.record.value, "hello");
    EXPECT_EQ(f.record.type, "build");
    EXPECT_EQ(f.arg.kind, NixArg::Kind::Expr);
    EXPECT_EQ(f.arg.value, "{ outPath = builtins.storePath \"" + outPath +
                               "\"; drvPath = \"/nix/store/00000000000000000000000000000000-x.drv\"; }");

    auto other = fetch(input("dep", "build", "p:other:hello"));
    EXPECT_GT(other.record.dependency.value_or(0), latest);
}

TEST_F(BuildInputTest, ASuccessfulBuildWhoseOutputIsGoneGivesNoValue)
{
    finishedBuild(jobsetId, "hello", "/nix/store/00000000000000000000000000000000-gone", 0);
    EXPECT_FALSE(fetcher->fetch(jobsetDef(), input("dep", "build", "hello"), {}));
}

} // namespace
