#include "harness/evaluator_fixture.hh"

#include "db/connection_pool.hh"
#include "db/projects.hh"
#include "harness/nix_graph.hh"
#include "harness/pg_fixture.hh"
#include "harness/sandbox_shell.hh"

#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <random>

namespace hydra::test {

using namespace std::chrono_literals;

std::string evaluatorBinary()
{
    return std::string(HYDRA_BINARY_DIR) + "/bin/hydra-evaluator";
}

std::string generatedJobset(int n, const std::string& nonce, const std::string& extra)
{
    std::string jobs;
    for (int i = 0; i < n; ++i) {
        std::string meta = i == 7
                               ? " // { meta = { schedulingPriority = 50; timeout = 1234; maxSilent = 321; "
                                 "description = \"job seven\"; }; }"
                               : "";
        jobs += fmt::format("  job{} = (mk \"job{}\" [ (lib {}) ]){};\n", i, i, i % 5, meta);
    }
    return fmt::format(R"(
{{ system ? builtins.currentSystem, busybox, ... }}:
let
  mk = name: deps: derivation {{
    inherit name system deps;
    builder = "${{busybox}}/bin/sh";
    args = [ "-c" "echo {} ${{name}} > $out" ];
  }};
  lib = i: mk "lib${{toString i}}" [ ];
in {{
{}{}
}}
)",
                       nonce, jobs, extra);
}

void EvaluatorFixture::SetUp()
{
    QueueRunnerFixture::SetUp();
    evaluator_ = TestDaemon(evaluatorBinary(), state_ + "/evaluator.log");
    settings_.fetch.dataDir = state_;
    settings_.fetch.timeout = 60s;
    settings_.workers.workers = 2;
    settings_.workers.gcRootsDir = state_ + "/gcroots"; // the queue runner's, as hydra.conf gives both
    evalListener_ = std::make_unique<db::Listener>(
        conninfo_,
        std::vector<std::string>{"eval_started", "eval_progress", "eval_added", "eval_cached", "eval_failed",
                                 "build_queued", "cached_build_queued", "cached_build_finished",
                                 "builds_added"},
        [this](const std::string& channel, const std::string& payload) {
            notifications_.lock()->emplace_back(channel, payload);
        },
        [] {});
}

void EvaluatorFixture::TearDown()
{
    stopEvaluator();
    evalListener_.reset();
    QueueRunnerFixture::TearDown();
}

std::string EvaluatorFixture::jobsetDir(const std::string& text)
{
    auto dir = makeTempDir("hydra-eval-src");
    std::ofstream(dir + "/release.nix") << text;
    return dir;
}

int EvaluatorFixture::jobsetWithInput(const std::string& name, const std::string& type,
                                      const std::string& value, int checkInterval)
{
    db::JobsetSpec spec{.project = "p",
                        .jobset = name,
                        .nixExprInput = "src",
                        .nixExprPath = "release.nix",
                        .checkInterval = checkInterval,
                        .inputs = {{.name = "src", .type = type, .value = value}, shellInput()}};
    pqxx::work t(*conn_);
    auto [id, created] = db::createJobsetIfMissing(t, spec);
    t.commit();
    return id;
}

int EvaluatorFixture::pathJobset(const std::string& name, const std::string& dir, int checkInterval)
{
    return jobsetWithInput(name, "path", dir, checkInterval);
}

evaluator::EvaluationReport EvaluatorFixture::evaluate(int jobsetId)
{
    db::ConnectionPool pool(db::PoolOptions{.conninfo = conninfo_, .maxConnections = 2});
    SystemClock clock;
    evaluator::JobsetEvaluator ev(pool, settings_, clock);
    std::stop_source never;
    return ev.run(jobsetId, never.get_token());
}

void EvaluatorFixture::startEvaluator()
{
    evaluator_.start(runnerEnv());
}

int EvaluatorFixture::stopEvaluator()
{
    return evaluator_.stop();
}

std::string EvaluatorFixture::evaluatorLog() const
{
    return evaluator_.log();
}

std::string shellJobset(const std::string& bindings, const std::string& attrs)
{
    return "{ system ? builtins.currentSystem, busybox, ... }:\n"
           "let\n"
           "  mk = name: script: deps: derivation {\n"
           "    inherit name system deps;\n"
           "    builder = \"${busybox}/bin/sh\";\n"
           "    args = [ \"-c\" script ];\n"
           "  };\n" +
           bindings + "in {\n" + attrs + "}\n";
}

std::string goodBadDependentJobset(const std::string& nonce)
{
    return shellJobset(fmt::format("  bad = mk \"bad\" \"echo {} is going to fail; exit 1\" [ ];\n", nonce),
                       fmt::format("  good = mk \"good\" \"echo {0} builds fine; echo {0} > $out\" [ ];\n"
                                   "  inherit bad;\n"
                                   "  needsBad = mk \"needs-bad\" \"echo > $out\" [ bad ];\n",
                                   nonce));
}

std::string randomNonce()
{
    std::random_device rd;
    return fmt::format("{:08x}{:08x}", rd(), rd());
}

} // namespace hydra::test
