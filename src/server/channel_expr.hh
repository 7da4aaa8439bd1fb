#pragma once
// A Nix channel made of builds: the expression that presents them to nix-env, and the
// nixexprs.tar.bz2 that nix-channel downloads.

#include "db/web_jobs.hh"

#include <string>
#include <string_view>
#include <vector>

namespace hydra::server {

/// A function of { system ? builtins.currentSystem } giving, for that system, one attribute per
/// job (a dotted job name nests, with recurseForDerivations) that nix-env sees as a derivation
/// whose outputs are the builds' output paths, to be substituted rather than built.
std::string channelExpression(const std::vector<db::web::ChannelBuild>& builds);

/// nixexprs.tar.bz2: one directory holding default.nix and channel-name (what nix-channel
/// unpacks and renames to the channel's local name).
std::string channelTarball(std::string_view channelName, std::string_view expression);

} // namespace hydra::server
