#pragma once
// Hand-written encoders for expected wire bytes, independent of the code under test, and a
// helper that captures an error message.

#include "util/error.hh"

#include <cstdint>
#include <string>

namespace hydra::test {

/// A uint64 as Nix sends it: 8 bytes, little-endian.
inline std::string u64(uint64_t n)
{
    std::string s;
    for (int i = 0; i < 8; ++i) s += static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}

/// A string as Nix sends it: length, bytes, zero padding to a multiple of 8.
inline std::string str(const std::string& s)
{
    return u64(s.size()) + s + std::string((8 - s.size() % 8) % 8, '\0');
}

/// The message of the hydra::Error that f throws, or "(no error)".
template <typename F> std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

} // namespace hydra::test
