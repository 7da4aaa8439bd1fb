#include "nix/derivation.hh"
#include "util/error.hh"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hydra::nix {

Derivation readDerivation(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error("cannot read derivation ‘{}’: {}", path, std::strerror(errno));
    std::stringstream text;
    text << f.rdbuf();
    return parseDerivation(text.str(), path);
}

} // namespace hydra::nix
