#include "harness/free_port.hh"

#include "util/fd.hh"

#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>

namespace hydra::test {

int freeLoopbackPort()
{
    AutoFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    auto* sa = reinterpret_cast<sockaddr*>(&addr); // NOLINT: the sockets API
    if (fd.get() < 0 || ::bind(fd.get(), sa, len) != 0 || ::getsockname(fd.get(), sa, &len) != 0)
        throw std::runtime_error("cannot bind a port on 127.0.0.1");
    return ntohs(addr.sin_port);
}

} // namespace hydra::test
