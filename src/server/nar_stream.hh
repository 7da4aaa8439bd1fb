#pragma once
// Streaming a store path as a NAR to an HTTP client, compressed on the way, in bounded memory.

#include "server/http.hh"

#include <string>
#include <string_view>

namespace hydra::server {

/// How a binary cache NAR is compressed: by the URL's extension.
enum class NarCompression { None, Zstd, Xz };

/// "zstd", "xz" or "none", as narinfo's Compression field names it.
std::string_view compressionName(NarCompression c);
/// ".zst", ".xz" or "": the extension of the NAR's URL.
std::string_view compressionExtension(NarCompression c);

/// Writes the NAR of the store path `path` to `out`, compressed with `c`, 64 KiB at a time.
/// Throws when the client goes away or the path cannot be read (the connection is then cut).
void streamNar(const std::string& path, NarCompression c, const BodyWriter& out);

} // namespace hydra::server
