// Every .drv in the real Nix store parses and prints back byte for byte, and fresh derivations
// (with a nonce, instantiated by the real nix-instantiate) parse to what Nix itself reports.

#include "harness/sandbox_shell.hh"
#include "nix/derivation.hh"
#include "nix/store_path.hh"
#include "util/error.hh"
#include "util/process.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace hydra;
using namespace hydra::nix;
namespace fs = std::filesystem;

namespace {

ProcessOptions nixCommand(std::vector<std::string> argv)
{
    ProcessOptions opts{.argv = std::move(argv)};
    opts.setEnv["NIX_CONFIG"] = "substituters =\n"
                                "extra-experimental-features = nix-command ca-derivations";
    return opts;
}

std::string storeDir()
{
    const char* dir = std::getenv("NIX_STORE_DIR");
    return dir && *dir ? dir : std::string(defaultStoreDir);
}

std::string readFile(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) throw Error("cannot read {}", p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// A Nix expression whose derivations use every .drv feature; the nonce makes them new.
std::string freshExpression(const std::string& nonce)
{
    return fmt::format(R"NIX(
let
  mk = attrs: derivation ({{ system = builtins.currentSystem; builder = {1}; nonce = "{0}"; }} // attrs);
  lib = mk {{ name = "rt-lib"; outputs = [ "out" "dev" ]; args = [ "-c" "echo > $out; echo > $dev" ]; }};
in [
  lib
  (mk {{ name = "rt-escapes"; args = [ "-c" "echo \"a\tb\" > $out" ];
        text = "quote \" backslash \\ newline \n return \r tab \t unicode é"; }})
  (mk {{ name = "rt-fixed"; args = [ "-c" "echo {0} > $out" ]; outputHashMode = "recursive";
        outputHashAlgo = "sha256"; outputHash = "0000000000000000000000000000000000000000000000000000"; }})
  (mk {{ name = "rt-features"; args = [ "-c" "echo ${{lib.dev}} ${{lib}} > $out" ];
        requiredSystemFeatures = [ "kvm" "big-parallel" ]; preferLocalBuild = true; }})
  (mk {{ name = "rt-structured"; __structuredAttrs = true; args = [ "-c" "echo > $out" ];
        requiredSystemFeatures = [ "benchmark" ]; }})
  (mk {{ name = "rt-ca"; __contentAddressed = true; outputHashMode = "recursive";
        outputHashAlgo = "sha256"; args = [ "-c" "echo > $out" ]; }})
]
)NIX",
                       nonce, hydra::test::shellBuilder());
}

std::vector<std::string> instantiateFresh()
{
    std::random_device rd;
    auto nonce = fmt::format("{:08x}{:08x}", rd(), rd());
    auto out = runChecked(nixCommand({"nix-instantiate", "--expr", freshExpression(nonce)}));
    std::vector<std::string> drvs;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty()) drvs.push_back(line);
    return drvs;
}

/// "" if `printed` equals `original`, else where and how they first differ.
std::string firstDifference(const std::string& original, const std::string& printed)
{
    if (original == printed) return "";
    std::size_t i = 0;
    while (i < original.size() && i < printed.size() && original[i] == printed[i]) ++i;
    auto from = i < 40 ? 0 : i - 40;
    return fmt::format("first difference at byte {} (sizes {} vs {}):\n  file:    ...{}\n  printed: ...{}", i,
                       original.size(), printed.size(), original.substr(from, 80), printed.substr(from, 80));
}

/// Every store path in the model is valid; "" if so, else which one is not.
std::string invalidPathIn(const Derivation& d)
{
    try {
        for (const auto& [name, out] : d.outputs)
            if (!out.path.empty()) StorePath::parse(out.path, storeDir());
        for (const auto& [drv, outputs] : d.inputDrvs)
            if (!StorePath::parse(drv, storeDir()).isDerivation()) return drv + " is not a .drv";
        for (const auto& src : d.inputSrcs) StorePath::parse(src, storeDir());
        return "";
    } catch (const Error& e) {
        return e.what();
    }
}

bool stillRegistered(const std::string& path)
{
    return exitedOk(run(nixCommand({"nix-store", "--check-validity", path})).status);
}

/// Parses, prints and validates one .drv; "" when all is well, else the problem.
std::string checkOne(const std::string& path)
{
    auto text = readFile(path);
    try {
        auto d = parseDerivation(text, path);
        if (auto diff = firstDifference(text, printDerivation(d)); !diff.empty()) return diff;
        return invalidPathIn(d);
    } catch (const Error& e) {
        return e.what();
    }
}

} // namespace

TEST(DrvRoundTrip, EveryDerivationInTheStorePrintsBackByteForByte)
{
    signal(SIGPIPE, SIG_IGN);
    auto fresh = instantiateFresh();
    ASSERT_EQ(fresh.size(), 6u);

    std::size_t checked = 0, vanished = 0, failures = 0;
    std::set<std::string> seen;
    for (const auto& entry : fs::directory_iterator(storeDir())) {
        auto path = entry.path().string();
        if (!path.ends_with(".drv")) continue;
        std::error_code ec;
        if (!fs::is_regular_file(entry.path(), ec)) continue;
        std::string problem;
        try {
            problem = checkOne(path);
        } catch (const Error&) {
            ++vanished; // garbage-collected by someone else since the listing
            continue;
        }
        // A .drv being written right now (not yet registered) may be incomplete: skip it.
        if (!problem.empty() && !stillRegistered(path)) {
            ++vanished;
            continue;
        }
        ++checked;
        seen.insert(path);
        if (!problem.empty() && failures++ == 0)
            ADD_FAILURE() << "first mismatching file: " << path << "\n" << problem;
    }
    EXPECT_EQ(failures, 0u) << "of " << checked << " .drv files";
    for (const auto& drv : fresh) EXPECT_TRUE(seen.count(drv)) << drv << " was not checked";
    RecordProperty("checked", static_cast<int>(checked));
    std::cerr << "checked " << checked << " .drv files, " << vanished << " vanished or in flight\n";
}

TEST(DrvRoundTrip, FreshDerivationsParseToWhatNixReports)
{
    auto fresh = instantiateFresh();
    std::vector<std::string> argv = {"nix", "show-derivation"};
    argv.insert(argv.end(), fresh.begin(), fresh.end());
    auto shown = nlohmann::json::parse(runChecked(nixCommand(argv)));
    for (const auto& path : fresh) {
        SCOPED_TRACE(path);
        auto d = parseDerivation(readFile(path), path);
        const auto& j = shown.at(path);
        ASSERT_EQ(d.outputs.size(), j.at("outputs").size());
        for (const auto& [name, out] : d.outputs) {
            const auto& jo = j.at("outputs").at(name);
            EXPECT_EQ(out.path, jo.value("path", ""));
            EXPECT_EQ(out.hashAlgo, jo.value("hashAlgo", ""));
            EXPECT_EQ(out.hash, jo.value("hash", ""));
        }
        EXPECT_EQ(d.inputDrvs, j.at("inputDrvs").get<decltype(d.inputDrvs)>());
        EXPECT_EQ(d.inputSrcs, j.at("inputSrcs").get<std::set<std::string>>());
        EXPECT_EQ(d.platform, j.at("system").get<std::string>());
        EXPECT_EQ(d.builder, j.at("builder").get<std::string>());
        EXPECT_EQ(d.args, j.at("args").get<std::vector<std::string>>());
        EXPECT_EQ(d.env, j.at("env").get<decltype(d.env)>());

        auto storePath = StorePath::parse(path, storeDir());
        auto name = storePath.name();
        if (name.starts_with("rt-features")) {
            EXPECT_EQ(d.requiredSystemFeatures(), (std::set<std::string>{"big-parallel", "kvm"}));
            EXPECT_TRUE(d.preferLocalBuild());
        } else if (name.starts_with("rt-structured")) {
            EXPECT_EQ(d.requiredSystemFeatures(), (std::set<std::string>{"benchmark"}));
            EXPECT_FALSE(d.preferLocalBuild());
        } else {
            EXPECT_TRUE(d.requiredSystemFeatures().empty());
        }
    }
}
