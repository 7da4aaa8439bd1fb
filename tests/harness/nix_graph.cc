#include "harness/nix_graph.hh"

#include "harness/sandbox_shell.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace hydra::test {

namespace {

std::string randomNonce()
{
    std::random_device rd;
    std::uniform_int_distribution<unsigned> digit(0, 15);
    std::string s;
    for (int i = 0; i < 24; ++i) s += "0123456789abcdef"[digit(rd)];
    return s;
}

/// A directory under the temporary directory, removed with everything in it when dropped.
class ScratchDir {
public:
    ScratchDir()
    {
        auto tmpl = (std::filesystem::temp_directory_path() / "hydra-graph-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throwSysError("creating a directory from " + tmpl);
        path_ = tmpl;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::string nixList(const std::vector<std::string>& items, bool quote)
{
    std::string s = "[";
    for (auto& i : items) s += " " + (quote ? nixStringLiteral(i) : i);
    return s + " ]";
}

} // namespace

std::map<std::string, std::string> nixTestEnv()
{
    return {{"NIX_CONFIG", "substituters ="}};
}

namespace {

std::string commandLineOf(const std::string& pid)
{
    std::ifstream f("/proc/" + pid + "/cmdline");
    return {(std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()};
}

std::string parentOf(const std::string& pid)
{
    std::ifstream f("/proc/" + pid + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return {};
    std::istringstream rest(stat.substr(close + 1));
    std::string state, ppid;
    rest >> state >> ppid;
    return ppid;
}

} // namespace

pid_t processWithCommandLine(const std::string& text, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
        for (const auto& e : std::filesystem::directory_iterator("/proc")) {
            auto pid = e.path().filename().string();
            if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
            // busybox runs an applet such as sleep in a fork of the shell, under the shell's
            // command line: the builder is the one whose parent does not match.
            if (commandLineOf(pid).find(text) != std::string::npos &&
                commandLineOf(parentOf(pid)).find(text) == std::string::npos)
                return std::stoi(pid);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < deadline);
    return 0;
}

namespace scripts {

std::string failing(int code)
{
    return fmt::format("echo \"this build fails on purpose\" >&2; exit {}", code);
}

std::string sleeping(int seconds)
{
    return fmt::format("sleep {}; echo slept > \"$out\"", seconds);
}

std::string failedWithOutput()
{
    return "mkdir -p \"$out/nix-support\"; echo 'failed on purpose' > \"$out/nix-support/failed\"";
}

std::string bigLog(int lines)
{
    return fmt::format("i=0; while [ $i -lt {} ]; do echo \"log line $i of a build with a big log\"; "
                       "i=$((i+1)); done; echo done > \"$out\"",
                       lines);
}

} // namespace scripts

NixGraph::NixGraph() : nonce_(randomNonce()) {}

NixGraph::NixGraph(std::string nonce) : nonce_(std::move(nonce)) {}

NixNode& NixGraph::add(std::string name, std::vector<std::string> deps)
{
    for (auto& d : deps) {
        auto base = d.substr(0, d.find('.'));
        if (std::none_of(nodes_.begin(), nodes_.end(), [&](auto& n) { return n.name == base; }))
            throw Error("node '{}' depends on '{}', which is not (yet) in the graph", name, d);
    }
    if (std::any_of(nodes_.begin(), nodes_.end(), [&](auto& n) { return n.name == name; }))
        throw Error("node '{}' is already in the graph", name);
    nodes_.push_back(NixNode{.name = std::move(name), .deps = std::move(deps)});
    return nodes_.back();
}

NixNode& NixGraph::node(const std::string& name)
{
    for (auto& n : nodes_)
        if (n.name == name) return n;
    throw Error("no node '{}' in the graph", name);
}

NixGraph NixGraph::chain(size_t n)
{
    NixGraph g;
    for (size_t i = 0; i < n; ++i) {
        std::vector<std::string> deps;
        if (i > 0) deps.push_back(fmt::format("n{}", i - 1));
        g.add(fmt::format("n{}", i), deps);
    }
    return g;
}

NixGraph NixGraph::diamond()
{
    NixGraph g;
    g.add("top");
    g.add("left", {"top"});
    g.add("right", {"top"});
    g.add("bottom", {"left", "right"});
    return g;
}

NixGraph NixGraph::fanIn(size_t width)
{
    NixGraph g;
    std::vector<std::string> leaves;
    for (size_t i = 0; i < width; ++i) leaves.push_back(g.add(fmt::format("leaf{}", i)).name);
    g.add("root", leaves).referenceDeps = false;
    return g;
}

NixGraph NixGraph::closure(size_t n)
{
    if (n == 0) throw Error("a closure holds at least one path");
    NixGraph g;
    std::vector<std::string> leaves;
    for (size_t i = 0; i + 1 < n; ++i) leaves.push_back(g.add(fmt::format("p{}", i)).name);
    g.add("top", leaves);
    return g;
}

std::string NixGraph::defaultScript(const NixNode& n) const
{
    std::string s;
    for (auto& o : n.outputs) {
        s += fmt::format("echo \"$nonce {} {}\" > \"${}\"; ", n.name, o, o);
        if (n.referenceDeps && !n.deps.empty()) s += fmt::format("echo \"$deps\" >> \"${}\"; ", o);
    }
    return s;
}

std::string NixGraph::nodeExpression(const NixNode& n) const
{
    auto script = n.script.empty() ? defaultScript(n) : n.script;
    return fmt::format("  {} = derivation {{\n"
                       "    name = {};\n"
                       "    system = builtins.currentSystem;\n"
                       "    builder = \"${{busybox}}/bin/sh\";\n"
                       "    args = [ \"-c\" {} ];\n"
                       "    outputs = {};\n"
                       "    deps = {};\n"
                       "    inherit nonce;\n"
                       "  }};\n",
                       n.name, nixStringLiteral(n.name), nixStringLiteral(script), nixList(n.outputs, true),
                       nixList(n.deps, false));
}

std::string NixGraph::expression() const
{
    std::string e =
        fmt::format("# Test derivation graph (nonce {}).\n{{ {} }}:\nlet nonce = {}; in\nrec {{\n", nonce_,
                    shellFormal(), nixStringLiteral(nonce_));
    for (auto& n : nodes_) e += nodeExpression(n);
    return e + "}\n";
}

std::filesystem::path NixGraph::writeTo(const std::filesystem::path& dir, const std::string& fileName) const
{
    auto file = dir / fileName;
    std::ofstream f(file, std::ios::trunc);
    f << expression();
    f.close();
    if (!f) throw Error("cannot write the derivation graph to {}", file.string());
    return file;
}

std::map<std::string, NixDrv> NixGraph::derivations() const
{
    ScratchDir dir;
    auto file = writeTo(dir.path());
    // --read-write-mode: evaluating drvPath must write the .drv files into the store.
    auto query = fmt::format("builtins.mapAttrs (name: d: {{ drvPath = d.drvPath; outputs = "
                             "builtins.listToAttrs (map (o: {{ name = o; value = d.${{o}}.outPath; }}) "
                             "d.outputs); }}) (import {} {{ }})",
                             nixStringLiteral(file.string()));
    auto json = runChecked(
        {.argv = {"nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "-E", query},
         .setEnv = nixTestEnv()},
        {}, std::chrono::minutes(5));
    auto parsed = nlohmann::json::parse(json);
    std::map<std::string, NixDrv> out;
    for (auto& [name, v] : parsed.items()) {
        NixDrv d{.drvPath = v.at("drvPath").get<std::string>()};
        for (auto& [o, p] : v.at("outputs").items()) d.outputs[o] = p.get<std::string>();
        out.emplace(name, std::move(d));
    }
    return out;
}

std::map<std::string, std::string> NixGraph::instantiate() const
{
    std::map<std::string, std::string> out;
    for (auto& [name, d] : derivations()) out.emplace(name, d.drvPath);
    return out;
}

std::map<std::string, NixDrv> NixGraph::build(const std::vector<std::string>& only) const
{
    auto drvs = derivations();
    for (auto& name : only)
        if (!drvs.count(name)) throw Error("cannot build '{}': no such node in the graph", name);
    std::vector<std::string> argv = {"nix-store", "--realise"};
    for (auto& [name, d] : drvs)
        if (only.empty() || std::find(only.begin(), only.end(), name) != only.end())
            argv.push_back(d.drvPath);
    auto r = run({.argv = argv, .setEnv = nixTestEnv()}, {}, std::chrono::minutes(10));
    if (!exitedOk(r.status))
        throw Error("building the test graph (nonce {}) failed: nix-store {}: {}", nonce_,
                    statusToString(r.status), r.err);
    return drvs;
}

} // namespace hydra::test
