#pragma once
// Handlers that create, change and delete projects: Hydra's PUT and DELETE /project/P for
// scripts, and the pages /create-project and /project/P/edit with their forms for browsers.

#include "server/router.hh"

namespace hydra::server {

Response projectPut(const Site& site, const Request& req);
Response projectDelete(const Site& site, const Request& req);

Response createProjectPage(const Site& site, const Request& req);
Response createProjectSubmit(const Site& site, const Request& req);
Response editProjectPage(const Site& site, const Request& req);
Response editProjectSubmit(const Site& site, const Request& req);
Response deleteProjectSubmit(const Site& site, const Request& req);

} // namespace hydra::server
