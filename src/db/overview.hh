#pragma once
// Overview: the few numbers `hydra status` shows about a database.

#include <pqxx/pqxx>

namespace hydra::db {

/// Counts of what the database holds.
struct Overview {
    long long projects = 0;
    long long jobsets = 0;
    long long queuedBuilds = 0;
    long long finishedBuilds = 0;
    long long users = 0;
};

/// Reads the counts in one read-only transaction.
Overview readOverview(pqxx::connection& c);

} // namespace hydra::db
