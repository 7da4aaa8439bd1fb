#pragma once
// The shell of every test derivation: busybox in the store (see nix/sandbox_shell.hh), because
// tests build with Nix's defaults, sandbox included, as real farms do.
//
// An expression names it in one of two ways:
// - evaluated by nix-instantiate directly: shellBuilder() as the builder;
// - a jobset's expression (restricted evaluation reads only the jobset's inputs): a formal
//   argument `busybox`, the jobset having the path input shellInput(), and the builder
//   "${busybox}/bin/sh". shellFormal() gives that formal a default, so the same text also
//   evaluates outside the evaluator.

#include "db/projects.hh"

#include <string>

namespace hydra::test {

/// The shell once added to the local store (once per test process).
struct SandboxShell {
    std::string sourceDir; ///< the directory ".../busybox" the store path was added from
    std::string storePath; ///< /nix/store/<hash>-busybox, holding bin/sh
};
const SandboxShell& sandboxShell();

/// A Nix expression: the store path of the shell's directory, with its context (so that a
/// derivation interpolating it has it as an input source, copied to a build host with it).
std::string shellExpr();
/// A Nix expression: the builder "<store path>/bin/sh".
std::string shellBuilder();
/// `busybox ? <shellExpr()>`, for a function's formal arguments.
std::string shellFormal();
/// The jobset input "busybox" (type path) that gives a jobset's expression the shell.
db::JobsetSpec::Input shellInput();

} // namespace hydra::test
