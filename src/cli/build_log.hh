#pragma once
// hydra build log [--follow] ID: a build's log from a shell, and a running step's log as it is
// written, as `curl -N …/build/ID/log?follow=1` gives it.

#include "cli/site.hh"

#include <cstdint>
#include <pqxx/pqxx>

namespace hydra::cli {

/// Writes the build's log to stdout: its log as the web shows it, or with `follow` its running
/// (else last) step's log until that step ends, waiting first for a queued build's first step.
int printBuildLog(const Site& site, pqxx::connection& conn, int64_t buildId, bool follow);

} // namespace hydra::cli
