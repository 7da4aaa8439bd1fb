#pragma once
// Handlers that create, change and delete projects: Hydra's PUT and DELETE /project/P for
// scripts, and the pages /create-project and /project/P/edit with their forms for browsers.

#include "server/html.hh"
#include "server/router.hh"

#include <string>

namespace hydra::server {

Response projectPut(const Site& site, const Request& req);
Response projectDelete(const Site& site, const Request& req);

Response createProjectPage(const Site& site, const Request& req);
Response createProjectSubmit(const Site& site, const Request& req);
Response editProjectPage(const Site& site, const Request& req);
Response editProjectSubmit(const Site& site, const Request& req);
Response deleteProjectSubmit(const Site& site, const Request& req);

/// The overview's "Create project" link, for users who may create projects (else nothing).
Html createProjectLink(const Site& site, const Request& req);
/// A project page's links to edit it and create a jobset, for its owner, members and admins.
Html projectEditLinks(const Site& site, const Request& req, const std::string& project);
/// A jobset page's links to edit and clone it, for the project's owner, members and admins.
Html jobsetEditLinks(const Site& site, const Request& req, const std::string& project,
                     const std::string& jobset);

} // namespace hydra::server
