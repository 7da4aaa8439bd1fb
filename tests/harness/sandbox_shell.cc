#include "harness/sandbox_shell.hh"

#include "nix/expr_literal.hh"
#include "nix/sandbox_shell.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

namespace hydra::test {

namespace {

/// The shell's source directory under a per-process directory, removed when the process ends.
class ShellDir {
public:
    ShellDir()
    {
        auto tmpl = (std::filesystem::temp_directory_path() / "hydra-shell-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throwSysError("creating a directory from " + tmpl);
        root_ = tmpl;
    }
    ShellDir(const ShellDir&) = delete;
    ShellDir& operator=(const ShellDir&) = delete;
    ~ShellDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(root_, ec);
    }
    std::filesystem::path dir() const { return root_ / "busybox"; }

private:
    std::filesystem::path root_;
};

SandboxShell makeShell()
{
    static ShellDir dir;
    nix::layOutShell(dir.dir(), nix::findStaticBusybox());
    auto out = runChecked({.argv = {"nix-store", "--add", dir.dir().string()}}, {}, std::chrono::minutes(5));
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return {dir.dir().string(), out};
}

} // namespace

const SandboxShell& sandboxShell()
{
    static const SandboxShell shell = makeShell();
    return shell;
}

std::string shellExpr()
{
    return "(builtins.storePath " + nix::nixStringLiteral(sandboxShell().storePath) + ")";
}

std::string shellBuilder()
{
    return "\"${" + shellExpr() + "}/bin/sh\"";
}

std::string shellFormal()
{
    return "busybox ? " + shellExpr();
}

db::JobsetSpec::Input shellInput()
{
    return {.name = "busybox", .type = "path", .value = sandboxShell().sourceDir};
}

} // namespace hydra::test
