#pragma once
// Secrets for authentication: random tokens, their digests for storage, HMAC signatures and
// comparisons that take the same time whatever the input.

#include <string>
#include <string_view>

namespace hydra {

/// A fresh random token of `bytes` random bytes from the system's CSPRNG, as lower-case hex.
std::string randomToken(std::size_t bytes = 32);

/// The SHA-256 of `data` as lower-case hex: what the database keeps instead of a token.
std::string sha256Hex(std::string_view data);

/// HMAC-SHA256 of `data` keyed with `key`, as lower-case hex (forges sign webhooks so).
std::string hmacSha256Hex(std::string_view key, std::string_view data);

/// a == b in a time that depends only on their lengths, for secrets an attacker probes.
bool constantTimeEquals(std::string_view a, std::string_view b);

} // namespace hydra
