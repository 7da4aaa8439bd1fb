// `hydra project …` and `hydra jobset …` as an operator runs them: the real binary against a
// real database; its --json output compared with what the real hydra-server answers.

#include "db/users.hh"
#include "harness/server_fixture.hh"
#include "util/process.hh"

#include <gtest/gtest.h>

namespace hydra::test {
namespace {

using nlohmann::json;

class CliProjectTest : public ServerFixture {
protected:
    void SetUp() override
    {
        ServerFixture::SetUp();
        db::UserUpdate u;
        u.name = "alice";
        u.emailAddress = "alice@example.org";
        db::upsertUser(conn(), u);
    }

    RunResult hydra(std::vector<std::string> args)
    {
        args.insert(args.begin(), std::string(HYDRA_BINARY_DIR) + "/bin/hydra");
        ProcessOptions o{.argv = args,
                         .setEnv = {{"HYDRA_DBI", conninfo()}, {"HYDRA_DATA", stateDir()}},
                         .unsetEnv = {"HYDRA_CONFIG", "HYDRA_DATABASE_URL"}};
        return run(o, "", std::chrono::minutes(2));
    }

    static int exitCode(const RunResult& r) { return WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1; }

    json hydraJson(std::vector<std::string> args)
    {
        args.emplace_back("--json");
        auto r = hydra(args);
        EXPECT_EQ(exitCode(r), 0) << r.err;
        return json::parse(r.out, nullptr, false);
    }

    // A refusal: the exit code, and `fragment` in its one line on stderr.
    void expectRefused(const RunResult& r, int code, const std::string& fragment)
    {
        EXPECT_EQ(exitCode(r), code) << r.out << r.err;
        EXPECT_NE(r.err.find(fragment), std::string::npos) << "expected ‘" << fragment << "’ in: " << r.err;
    }

    std::string snapshot()
    {
        return exec(
            "SELECT coalesce(string_agg(x, ';' ORDER BY x), '') FROM ("
            "SELECT 'p:' || name || ':' || displayName || ':' || enabled AS x FROM Projects UNION ALL "
            "SELECT 'j:' || name || ':' || schedulingShares || ':' || enabled FROM Jobsets UNION ALL "
            "SELECT 'i:' || name || ':' || type FROM JobsetInputs) s");
    }
};

TEST_F(CliProjectTest, CreateShowUpdateDeleteAnswerAsTheWebDoes)
{
    auto project = hydraJson({"project", "create", "sample", "--displayname", "Sample", "--owner", "alice",
                              "--description=the sample", "--homepage", "https://example.org"});
    EXPECT_EQ(project["name"], "sample");
    EXPECT_EQ(project["owner"], "alice");
    EXPECT_EQ(project["enabled"], true);
    EXPECT_EQ(project["hidden"], false);

    auto jobset = hydraJson({"jobset", "create", "sample", "main", "--nixexprinput", "src", "--nixexprpath",
                             "ci/release.nix", "--input", "src=git:https://example.org/r.git main", "--input",
                             "greeting=string: hi ", "--schedulingshares", "5", "--checkinterval", "60"});
    EXPECT_EQ(jobset["nixexprpath"], "ci/release.nix");
    EXPECT_EQ(jobset["schedulingshares"], 5);
    EXPECT_EQ(jobset["checkinterval"], 60);
    EXPECT_EQ(jobset["enabled"], 1);
    EXPECT_EQ(jobset["inputs"]["src"]["value"], "https://example.org/r.git main");
    EXPECT_EQ(jobset["inputs"]["greeting"]["value"], " hi ");

    auto flake = hydraJson({"jobset", "create", "sample", "flakes", "--flake", "github:NixOS/patchelf",
                            "--enabled", "3", "--visible", "0"});
    EXPECT_EQ(flake["type"], 1);
    EXPECT_EQ(flake["flake"], "github:NixOS/patchelf");
    EXPECT_EQ(flake["enabled"], 3);
    EXPECT_EQ(flake["visible"], false);
    ASSERT_EQ(exitCode(hydra({"jobset", "delete", "sample", "flakes"})), 0);

    startServer();
    EXPECT_EQ(hydraJson({"project", "show", "sample"}), getJson("/project/sample").json());
    EXPECT_EQ(hydraJson({"jobset", "show", "sample", "main"}), getJson("/jobset/sample/main").json());
    EXPECT_EQ(hydraJson({"project", "list"}), getJson("/").json());
    auto listed = hydraJson({"jobset", "list", "sample"});
    ASSERT_EQ(listed.size(), 1U);
    EXPECT_EQ(listed[0]["name"], "main");

    // Update changes only what it is told; a rename leaves a redirect behind.
    auto updated = hydraJson({"jobset", "update", "sample", "main", "--enabled", "0", "--remove-input",
                              "greeting", "--name", "trunk"});
    EXPECT_EQ(updated["name"], "trunk");
    EXPECT_EQ(updated["enabled"], 0);
    EXPECT_EQ(updated["schedulingshares"], 5);
    EXPECT_EQ(updated["inputs"].size(), 1U);
    EXPECT_EQ(exec("SELECT to_ FROM JobsetRenames WHERE from_ = 'main'"), "trunk");
    auto p = hydraJson({"project", "update", "sample", "--visible", "0", "--displayname", "Renamed"});
    EXPECT_EQ(p["hidden"], true);
    EXPECT_EQ(p["displayname"], "Renamed");
    EXPECT_EQ(p["description"], "the sample");

    // Plain output for people.
    auto shown = hydra({"jobset", "show", "sample", "trunk"});
    ASSERT_EQ(exitCode(shown), 0) << shown.err;
    EXPECT_NE(shown.out.find("sample:trunk: disabled"), std::string::npos) << shown.out;
    EXPECT_NE(shown.out.find("input src: git https://example.org/r.git main"), std::string::npos)
        << shown.out;

    auto del = hydra({"jobset", "delete", "sample", "trunk"});
    ASSERT_EQ(exitCode(del), 0) << del.err;
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets"), "0");
    ASSERT_EQ(exitCode(hydra({"project", "delete", "sample"})), 0);
    EXPECT_EQ(exec("SELECT count(*) FROM Projects"), "0");
    expectRefused(hydra({"project", "delete", "sample"}), 1, "project 'sample' does not exist");
}

TEST_F(CliProjectTest, BadArgumentsAreNamedAndChangeNothing)
{
    ASSERT_EQ(exitCode(hydra({"project", "create", "sample", "--displayname", "S", "--owner", "alice"})), 0);
    ASSERT_EQ(exitCode(hydra({"jobset", "create", "sample", "main", "--nixexprinput", "src", "--nixexprpath",
                              "default.nix", "--input", "src=path:/srv"})),
              0);
    auto before = snapshot();

    expectRefused(hydra({"project", "create", "2bad", "--displayname", "S", "--owner", "alice"}), 1, "2bad");
    expectRefused(hydra({"project", "create", "other", "--owner", "alice"}), 1, "displayname");
    expectRefused(hydra({"project", "create", "other", "--displayname", "S", "--owner", "nobody"}), 1,
                  "‘nobody’");
    expectRefused(hydra({"project", "create", "other", "--displayname", "S"}), 2, "--owner");
    expectRefused(hydra({"project", "create", "sample", "--displayname", "S", "--owner", "alice"}), 1,
                  "exists already");
    expectRefused(hydra({"project", "frobnicate"}), 2, "frobnicate");
    expectRefused(hydra({"project", "update", "sample", "--colour", "blue"}), 2, "--colour");
    expectRefused(hydra({"project", "update", "missing", "--displayname", "x"}), 1, "does not exist");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--schedulingshares", "0"}), 1,
                  "schedulingshares");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--nixexprpath", "../../etc/passwd"}), 1,
                  "nixexprpath");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--enabled", "often"}), 1, "enabled");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--input", "x=svn:foo"}), 1, "x.type");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--input", "nonsense"}), 2, "NAME=TYPE:VALUE");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--remove-input", "nope"}), 2, "nope");
    expectRefused(
        hydra({"jobset", "create", "sample", "main", "--nixexprinput", "src", "--nixexprpath", "a.nix"}), 1,
        "exists already");
    expectRefused(
        hydra({"jobset", "create", "nowhere", "main", "--nixexprinput", "src", "--nixexprpath", "a.nix"}), 1,
        "project ‘nowhere’ does not exist");
    expectRefused(hydra({"jobset", "show", "sample"}), 2, "missing JOBSET");
    expectRefused(hydra({"jobset", "delete", "sample", "nope"}), 1, "does not exist");
    EXPECT_EQ(snapshot(), before);

    // The jobsets of a declarative project belong to its specification.
    ASSERT_EQ(exitCode(hydra({"project", "update", "sample", "--declfile", "spec.json", "--decltype", "path",
                              "--declvalue", "/srv/spec"})),
              0);
    EXPECT_EQ(exec("SELECT count(*) FROM Jobsets WHERE name = '.jobsets'"), "1");
    expectRefused(hydra({"jobset", "update", "sample", "main", "--enabled", "0"}), 1, "declarative");
}

} // namespace
} // namespace hydra::test
