// request_body_fuzz: the bodies of hydra-server's actions, as a form or as JSON, through the
// parsers of the login, project and jobset actions. Whatever the bytes, each either refuses the
// body with HttpError 400 or yields a configuration whose names pass Hydra's rules and whose
// expression path stays inside its input; nothing else may escape.

#include "db/jobset_config.hh"
#include "server/forms.hh"
#include "server/http.hh"
#include "server/project_input.hh"

#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

void check(bool ok)
{
    if (!ok) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0) return 0;
    using namespace hydra::server;
    Request req;
    req.method = "PUT";
    // The first byte picks how the rest is sent: as a form or as JSON.
    bool form = data[0] & 1;
    req.headers.emplace("content-type", form ? "application/x-www-form-urlencoded" : "application/json");
    req.body.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        auto fields = formFields(req);
        auto body = actionBody(req, fields);
        try {
            auto p = projectFromBody(body, "fuzzed");
            check(hydra::db::isProjectName(p.name));
        } catch (const HttpError& e) {
            check(e.status() == 400);
        }
        auto j = jobsetFromBody(body, "fuzzed");
        check(hydra::db::isJobsetName(j.name));
        for (const auto& in : j.inputs) check(hydra::db::isInputName(in.name));
        check(j.nixExprPath.empty() || hydra::db::isRelativePath(j.nixExprPath));
    } catch (const HttpError& e) {
        check(e.status() == 400);
    }
    return 0;
}
