#pragma once
// The shell that derivations without nixpkgs (the example jobset, the tests) use as their
// builder. Nix's default sandbox shows a build only its inputs' closure, never the host's
// /bin/sh, so the shell must be a store path the derivation names: a statically linked busybox,
// whose `sh` runs its other applets (echo, mkdir, sleep, ...) without PATH.

#include <filesystem>

namespace hydra::nix {

/// The static busybox of this machine (Debian's busybox-static: /bin/busybox). Throws naming
/// the package when there is none, or when the one found is dynamically linked (it would not
/// start in the sandbox, where no shared libraries are).
std::filesystem::path findStaticBusybox();

/// Makes `dir` (whose base name becomes the store path's name, e.g. ".../busybox") hold
/// bin/busybox, a copy of `busybox`, and bin/sh linking to it: a builder of "${dir}/bin/sh"
/// starts busybox as `sh` (it picks the applet from the name it is run as). Replaces what `dir`
/// held, so a busybox upgraded since shows up at the next evaluation.
void layOutShell(const std::filesystem::path& dir, const std::filesystem::path& busybox);

} // namespace hydra::nix
