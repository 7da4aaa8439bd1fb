#pragma once
// Password hashing for Users.password: salted Argon2id, and verification of the formats
// Hydra databases already hold.

#include <string>
#include <string_view>

namespace hydra {

/// Returns an encoded Argon2id hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") with a
/// fresh random salt; slow on purpose.
std::string hashPassword(std::string_view password);

/// Checks a password against a stored hash: Argon2 (i, d, id) encoded strings, and the
/// unsalted SHA-1 hex that old Hydra versions wrote (accepted so existing users can log in).
bool verifyPassword(std::string_view password, std::string_view stored);

/// True when `hash` looks like something verifyPassword understands; for --password-hash.
bool isSupportedPasswordHash(std::string_view hash);

} // namespace hydra
