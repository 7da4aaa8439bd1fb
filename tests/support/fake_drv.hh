#pragma once
// A well-formed .drv store path for unit tests of pure logic that never touch the store.

#include <string>

namespace hydra::test {

/// "/nix/store/aaa…-<name>.drv": valid in form, naming nothing real.
inline std::string drv(const std::string& name)
{
    return "/nix/store/" + std::string(32, 'a') + "-" + name + ".drv";
}

} // namespace hydra::test
