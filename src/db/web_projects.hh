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

/// The projects named `names` that exist, by name (two queries whatever their number).
std::vector<Project> findProjects(pqxx::transaction_base& t, const std::vector<std::string>& names);

/// The jobsets of `ids` that exist, by project then name, with inputs and counts (two queries).
std::vector<Jobset> findJobsets(pqxx::transaction_base& t, const std::vector<int64_t>& ids);

/// The jobsets of a project by name, with inputs and the counts of their current builds.
std::vector<Jobset> projectJobsets(pqxx::transaction_base& t, const std::string& project);

/// One jobset with inputs and counts, or nullopt.
std::optional<Jobset> findJobset(pqxx::transaction_base& t, const std::string& project,
                                 const std::string& name);

} // namespace hydra::db::web
