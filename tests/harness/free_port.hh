#pragma once
// freeLoopbackPort: a TCP port on 127.0.0.1 that nothing listens on, for a daemon a test starts.

namespace hydra::test {

/// A port free at the time of asking (the kernel does not hand it out again at once).
int freeLoopbackPort();

} // namespace hydra::test
