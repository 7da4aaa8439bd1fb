#pragma once
// What the project and jobset handlers share: the db layer's refusals as HTTP answers.

#include "db/project_writes.hh"
#include "server/http.hh"

#include <utility>

namespace hydra::server {

/// Runs f, turning the db layer's NotFoundError into 404, ConflictError into 409 and
/// ConfigError (e.g. an owner who is not a user) into 400.
template <typename F> auto translateConfigErrors(F&& f)
{
    try {
        return std::forward<F>(f)();
    } catch (const db::NotFoundError& e) {
        throw HttpError(404, e.what());
    } catch (const db::ConflictError& e) {
        throw HttpError(409, e.what());
    } catch (const db::ConfigError& e) {
        throw HttpError(400, e.what());
    }
}

} // namespace hydra::server
