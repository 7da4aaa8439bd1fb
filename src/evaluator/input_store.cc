#include "evaluator/input_store.hh"

#include "evaluator/input_command.hh"

namespace hydra::evaluator {

std::string trimmed(std::string s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
    return s;
}

StoreAddResult addToStore(const std::filesystem::path& path, std::chrono::seconds timeout,
                          const std::stop_token& stop)
{
    StoreAddResult r;
    r.storePath = trimmed(runCommandChecked(
        "nix-store --add", ProcessOptions{.argv = {"nix-store", "--add", path.string()}}, timeout, stop));
    auto hash = trimmed(runCommandChecked(
        "nix-store --query --hash", ProcessOptions{.argv = {"nix-store", "--query", "--hash", r.storePath}},
        timeout, stop));
    constexpr std::string_view prefix = "sha256:";
    if (hash.starts_with(prefix)) hash.erase(0, prefix.size());
    r.sha256 = hash;
    return r;
}

bool isValidStorePath(const std::string& storePath, std::chrono::seconds timeout, const std::stop_token& stop)
{
    auto res =
        runCommand(ProcessOptions{.argv = {"nix-store", "--check-validity", storePath}}, timeout, stop);
    return exitedOk(res.status);
}

} // namespace hydra::evaluator
