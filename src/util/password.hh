#pragma once
// Password hashing for Users.password: salted Argon2id, and verification of the formats
// Hydra databases already hold.

#include <string>
#include <string_view>

namespace hydra {

/// Returns an encoded Argon2id hash ("$argon2id$v=19$m=...,t=...,p=...$salt$hash") with a
/// fresh random salt; slow on purpose.
std::string hashPassword(std::string_view password);

/// The outcome of checking a login's password against Users.password.
struct PasswordCheck {
    bool valid = false;
    /// Valid, but the stored hash is a legacy one (SHA-1, bare or wrapped in Argon2) or uses
    /// weaker parameters than hashPassword: the caller should store hashPassword(password).
    bool rehash = false;
};

/// Checks a password as Hydra's login does: an Argon2 (i, d, id) hash of the password or of
/// its SHA-1 hex (what `hydra init` turns old hashes into), or the bare unsalted SHA-1 hex
/// that old Hydra versions wrote.
PasswordCheck checkPassword(std::string_view password, std::string_view stored);

/// checkPassword(...).valid.
bool verifyPassword(std::string_view password, std::string_view stored);

/// True for the unsalted SHA-1 hex (40 lower-case hex digits) of old Hydra versions.
bool isLegacySha1Hash(std::string_view stored);

/// What `hydra init` stores instead of a legacy SHA-1 hash: Argon2id of that hex string,
/// which checkPassword accepts for the original password.
std::string upgradeLegacySha1Hash(std::string_view sha1Hex);

/// True when `hash` looks like something checkPassword understands; for --password-hash.
bool isSupportedPasswordHash(std::string_view hash);

} // namespace hydra
