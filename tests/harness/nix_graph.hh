#pragma once
// NixGraph: a derivation graph of any shape, written as a Nix expression without nixpkgs, with a
// fresh nonce in every derivation so no test reuses a result from an earlier run.

#include "nix/expr_literal.hh"

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace hydra::test {

/// One derivation of a NixGraph.
struct NixNode {
    std::string name;              ///< attribute and derivation name (a Nix identifier)
    std::vector<std::string> deps; ///< "node" or "node.output" (build inputs)
    std::vector<std::string> outputs = {"out"};
    /// Shell code run by busybox sh -c (sandbox_shell.hh); empty writes every output as a file
    /// naming the node.
    std::string script;
    /// Whether the default script writes the dependencies' paths into the outputs, making them
    /// runtime references (part of the output's closure) rather than build-time inputs only.
    bool referenceDeps = true;
};

/// A derivation after evaluation: where its .drv is and what it produces.
struct NixDrv {
    std::string drvPath;
    std::map<std::string, std::string> outputs; ///< output name -> store path
    const std::string& out() const { return outputs.at("out"); }
};

/// Builder scripts for nodes that misbehave on purpose. PATH is unset in a build: busybox's sh
/// runs its own applets by name (sleep, mkdir), and nothing of the host is visible.
namespace scripts {
/// Prints a message and exits with `code`: a failed build.
std::string failing(int code = 1);
/// Sleeps, then writes $out: a build that is still running when a test looks.
std::string sleeping(int seconds);
/// Succeeds but writes $out/nix-support/failed: Hydra's "failed with output".
std::string failedWithOutput();
/// Prints `lines` numbered lines to stdout, then writes $out: a build with a large log.
std::string bigLog(int lines);
} // namespace scripts

/// A graph of named derivations with dependency edges; evaluates and builds with the real Nix.
class NixGraph {
public:
    /// A graph with a random nonce.
    NixGraph();
    /// A graph with a chosen nonce (two graphs with the same nonce share store paths).
    explicit NixGraph(std::string nonce);

    /// Adds a node; deps must already exist. Returns it for further tuning.
    NixNode& add(std::string name, std::vector<std::string> deps = {});
    NixNode& node(const std::string& name);
    const std::vector<NixNode>& nodes() const { return nodes_; }
    const std::string& nonce() const { return nonce_; }

    /// n0 <- n1 <- ... <- n{n-1}: each node depends on the one before.
    static NixGraph chain(size_t n);
    /// top <- left, right <- bottom: "bottom" depends on both sides, which share "top".
    static NixGraph diamond();
    /// leaf0..leaf{width-1} <- root, build-time inputs only (not in root's closure).
    static NixGraph fanIn(size_t width);
    /// "top" whose output's runtime closure is exactly n store paths (top plus n-1 leaves).
    static NixGraph closure(size_t n);

    /// A Nix expression: a function of { busybox ? <the test shell> } returning an attribute set
    /// with one derivation per node; usable as a jobset's release expression (given the jobset
    /// input shellInput()).
    std::string expression() const;
    /// Writes expression() to dir/fileName and returns that file.
    std::filesystem::path writeTo(const std::filesystem::path& dir,
                                  const std::string& fileName = "default.nix") const;

    /// Evaluates with nix-instantiate into the local store: node name -> .drv path.
    std::map<std::string, std::string> instantiate() const;
    /// Evaluates and reports .drv and output paths of every node (nothing is built).
    std::map<std::string, NixDrv> derivations() const;
    /// Builds the named nodes (all when empty) into the local store; throws naming the failure.
    std::map<std::string, NixDrv> build(const std::vector<std::string>& only = {}) const;

private:
    std::string nodeExpression(const NixNode& n) const;
    std::string defaultScript(const NixNode& n) const;

    std::string nonce_;
    std::vector<NixNode> nodes_;
};

/// The pid (as this process sees it) of a process whose command line holds `text`, or 0 if none
/// appears within `timeout`. A sandboxed build has its own pid namespace and sees none of the
/// test's files, but its builder's command line (sh -c SCRIPT) is visible: a marker in the
/// script finds it.
pid_t processWithCommandLine(const std::string& text, std::chrono::milliseconds timeout);

/// The environment every nix command in the tests needs: no substituters (no network wait).
/// Everything else is Nix's default: builds run in the sandbox.
std::map<std::string, std::string> nixTestEnv();

using nix::nixStringLiteral;

} // namespace hydra::test
