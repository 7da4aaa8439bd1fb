#pragma once
// The local Nix store as input fetching uses it: copying a fetched tree in, and asking about
// paths, through the nix-store command.

#include <chrono>
#include <filesystem>
#include <stop_token>
#include <string>

namespace hydra::evaluator {

/// A tree copied into the store: its store path and NAR hash (Nix base-32, no "sha256:").
struct StoreAddResult {
    std::string storePath;
    std::string sha256;
};

/// `nix-store --add <path>`: the store path is named after the path's base name. Throws
/// Error "nix-store --add failed: ..." (or TimeoutError / CommandInterrupted).
StoreAddResult addToStore(const std::filesystem::path& path, std::chrono::seconds timeout,
                          const std::stop_token& stop);

/// Whether `storePath` is valid in the local store (`nix-store --check-validity`).
bool isValidStorePath(const std::string& storePath, std::chrono::seconds timeout,
                      const std::stop_token& stop);

/// `s` without trailing newlines and spaces (a command's one-line output).
std::string trimmed(std::string s);

} // namespace hydra::evaluator
