#pragma once
// EvaluatorFixture: the queue runner's fixture plus jobsets to evaluate, the evaluator run in
// the test process or as the real hydra-evaluator, and its announcements.

#include "evaluator/evaluation.hh"
#include "harness/queue_runner_fixture.hh"

#include <optional>
#include <string>
#include <vector>

namespace hydra::test {

/// The built hydra-evaluator program.
std::string evaluatorBinary();

/// A jobset expression with `n` jobs named job0..job{n-1} (each depending on one of a few shared
/// derivations; job7 gets meta.schedulingPriority 50, timeout 1234, maxSilent 321), plus the
/// named `extra` attribute text spliced into the top-level set. `nonce` makes every .drv new.
/// Its derivations run the shell of the input "busybox" (sandbox_shell.hh), as `mk` does.
std::string generatedJobset(int n, const std::string& nonce, const std::string& extra = "");

/// A jobset expression whose derivations run the shell of the input "busybox" (sandbox_shell.hh):
/// `bindings` (let-bindings, one per line) and `attrs` (the returned set's body) may use
/// `mk NAME SCRIPT DEPS`, a derivation running SCRIPT with the derivations DEPS as inputs.
std::string shellJobset(const std::string& bindings, const std::string& attrs);

/// A jobset of three jobs built with the sandbox's busybox: `good` (prints "NONCE builds fine"),
/// `bad` (prints "NONCE is going to fail", exits 1) and `needsBad`, which depends on `bad`.
std::string goodBadDependentJobset(const std::string& nonce);

/// 16 random hex digits: makes a test's derivations new to the store.
std::string randomNonce();

/// Base of the evaluator's tests.
class EvaluatorFixture : public QueueRunnerFixture {
protected:
    void SetUp() override;
    void TearDown() override;

    /// A fresh directory holding release.nix with `text`.
    std::string jobsetDir(const std::string& text);
    /// A jobset of project "p" whose input "src" (type `type`, value `value`) holds release.nix;
    /// its input "busybox" is the shell of the test derivations (shellInput()).
    int pathJobset(const std::string& name, const std::string& dir, int checkInterval = 0);
    int jobsetWithInput(const std::string& name, const std::string& type, const std::string& value,
                        int checkInterval = 0);
    /// One evaluation in this process, with two workers.
    evaluator::EvaluationReport evaluate(int jobsetId);
    /// Starts the real hydra-evaluator (config from hydra.conf, output to evaluator.log).
    void startEvaluator();
    int stopEvaluator();
    std::string evaluatorLog() const;

    evaluator::EvaluationSettings settings_;
    /// Hears the evaluator's channels; what it hears joins the base fixture's payloads().
    std::unique_ptr<db::Listener> evalListener_;
    TestDaemon evaluator_{"", ""}; ///< set up in SetUp()
};

} // namespace hydra::test
