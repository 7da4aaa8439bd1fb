#pragma once
// Reading projects and jobsets for the web server (a fixed number of queries per call).

#include "db/web_records.hh"

#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace hydra::db::web {

/// Every project by name, with its jobsets' names; hidden ones only when `withHidden`.
std::vector<Project> listProjects(pqxx::transaction_base& t, bool withHidden);

/// One project, or nullopt.
std::optional<Project> findProject(pqxx::transaction_base& t, const std::string& name);

/// The jobsets of a project by name, with inputs and the counts of their current builds.
std::vector<Jobset> projectJobsets(pqxx::transaction_base& t, const std::string& project);

/// One jobset with inputs and counts, or nullopt.
std::optional<Jobset> findJobset(pqxx::transaction_base& t, const std::string& project,
                                 const std::string& name);

} // namespace hydra::db::web
