#pragma once
// Nix's base-32: the alphabet without e, o, t, u and the least significant bits first, as used
// in store path hash parts and in `sha256:<base32>` hashes.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hydra::nix {

/// The 32 digits, in value order.
inline constexpr std::string_view base32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz";

/// Number of base-32 characters that encode `bytes` bytes (20 -> 32, 32 -> 52).
constexpr std::size_t base32Len(std::size_t bytes)
{
    return bytes == 0 ? 0 : (bytes * 8 - 1) / 5 + 1;
}

/// True if `c` is one of the 32 digits.
bool isBase32Char(char c);

/// Encodes bytes the way Nix prints hashes: the first character holds the highest bits.
std::string base32Encode(std::span<const std::uint8_t> bytes);

/// Decodes a Nix base-32 string. Throws hydra::Error naming `s` if it holds a character outside
/// the alphabet, if no byte count encodes to its length, or if it sets bits beyond the last byte.
std::vector<std::uint8_t> base32Decode(std::string_view s);

} // namespace hydra::nix
