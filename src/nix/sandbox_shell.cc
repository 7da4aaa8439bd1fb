#include "nix/sandbox_shell.hh"

#include "util/error.hh"

#include <elf.h>
#include <fstream>

namespace hydra::nix {

namespace {

/// Whether the ELF file names a program interpreter (ld.so): a dynamically linked program.
/// Only 64-bit little-endian files are read; others count as static (the sandbox will say).
bool needsInterpreter(const std::filesystem::path& file)
{
    std::ifstream f(file, std::ios::binary);
    Elf64_Ehdr eh{};
    if (!f.read(reinterpret_cast<char*>(&eh), sizeof eh)) return false;
    if (std::string_view(reinterpret_cast<const char*>(eh.e_ident), SELFMAG) != ELFMAG ||
        eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return false;
    for (unsigned i = 0; i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        f.seekg(static_cast<std::streamoff>(eh.e_phoff + i * static_cast<uint64_t>(eh.e_phentsize)));
        if (!f.read(reinterpret_cast<char*>(&ph), sizeof ph)) return false;
        if (ph.p_type == PT_INTERP) return true;
    }
    return false;
}

} // namespace

std::filesystem::path findStaticBusybox()
{
    for (const char* candidate : {"/bin/busybox", "/usr/bin/busybox"}) {
        std::filesystem::path p = candidate;
        if (!std::filesystem::exists(p)) continue;
        if (needsInterpreter(p))
            throw Error("{} is dynamically linked and cannot run in Nix's sandbox; install the static one "
                        "(Debian: apt-get install busybox-static)",
                        p.string());
        return p;
    }
    throw Error("no busybox found (/bin/busybox): derivations need a shell in the Nix store to build in "
                "Nix's sandbox; install it (Debian: apt-get install busybox-static)");
}

void layOutShell(const std::filesystem::path& dir, const std::filesystem::path& busybox)
{
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) throw Error("cannot remove {}: {}", dir.string(), ec.message());
    std::filesystem::create_directories(dir / "bin", ec);
    if (ec) throw Error("cannot create {}/bin: {}", dir.string(), ec.message());
    // A copy, not a link: the store keeps a symlink as a symlink, pointing nowhere in a build.
    std::filesystem::copy_file(busybox, dir / "bin" / "busybox", ec);
    if (ec) throw Error("cannot copy {} into {}: {}", busybox.string(), dir.string(), ec.message());
    std::filesystem::create_symlink("busybox", dir / "bin" / "sh", ec);
    if (ec) throw Error("cannot link {}/bin/sh: {}", dir.string(), ec.message());
}

} // namespace hydra::nix
