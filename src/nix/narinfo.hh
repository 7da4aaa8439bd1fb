#pragma once
// The .narinfo text a binary cache serves for a store path.

#include "nix/signing.hh"
#include "nix/store_db.hh"

#include <string>
#include <string_view>

namespace hydra::nix {

/// The narinfo of `info` whose NAR is at `url` (relative to the cache) compressed with
/// `compression` ("zstd", "xz", "none"). No FileHash/FileSize: the NAR is compressed while it
/// is sent. Signed with `key` when given, after the signatures the path already has.
/// Throws hydra::Error for a NAR hash Nix could not have written.
std::string renderNarInfo(const StorePathInfo& info, std::string_view url, std::string_view compression,
                          const SigningKey* key);

} // namespace hydra::nix
