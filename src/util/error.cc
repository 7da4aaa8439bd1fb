#include "util/error.hh"

#include <cerrno>
#include <cstring>

namespace hydra {

void throwSysError(const std::string& what)
{
    int err = errno;
    throw Error("{}: {}", what, std::strerror(err));
}

} // namespace hydra
