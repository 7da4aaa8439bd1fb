// libFuzzer target for the machines file parser and printer.
//
// Run it with a scratch directory FIRST and the repository's seed corpus SECOND:
//   ./machines_fuzz -max_total_time=60 -timeout=10 -artifact_prefix=$scratch/ $scratch fuzz/corpus/machines
// libFuzzer writes new inputs only into the first corpus directory and crash files under
// -artifact_prefix, so the repository stays untouched (CI relies on this).
//
// Properties: parseMachines throws nothing but hydra::Error; whatever it accepts prints to text
// that parses back to the same list and prints identically; supports() and the ssh helpers
// never crash on what it accepts.

#include "nix/machines.hh"
#include "util/error.hh"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<hydra::nix::Machine> machines;
    try {
        machines = hydra::nix::parseMachines(text, "fuzz-machines");
    } catch (const hydra::Error&) {
        return 0;
    }
    auto printed = hydra::nix::printMachines(machines);
    try {
        auto again = hydra::nix::parseMachines(printed, "reprinted-machines");
        if (again != machines || hydra::nix::printMachines(again) != printed) {
            std::fprintf(stderr, "print/parse is not a fixed point:\n%s", printed.c_str());
            std::abort();
        }
    } catch (const hydra::Error& e) {
        std::fprintf(stderr, "printed machines do not parse: %s\n%s", e.what(), printed.c_str());
        std::abort();
    }
    for (const auto& m : machines) {
        if (m.systems.empty() || !(m.speedFactor > 0)) {
            std::fprintf(stderr, "accepted a machine without systems or with speed factor <= 0\n");
            std::abort();
        }
        (void) m.supports(*m.systems.begin(), m.mandatoryFeatures);
        (void) m.supports("builtin", m.supportedFeatures, true);
        (void) m.sshDestination();
        (void) m.knownHostsLine();
    }
    return 0;
}
