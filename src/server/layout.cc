#include "server/layout.hh"

#include "server/site.hh"

#include <fmt/format.h>

namespace hydra::server {

std::string_view styleSheet()
{
    return R"css(:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--muted:#666;--line:#ddd;--link:#0b5cad;
--ok:#1a7f37;--okbg:#dafbe1;--bad:#b42318;--badbg:#ffebe9;--warn:#8a5a00;--warnbg:#fff4d6;--run:#0b5cad;--runbg:#ddeeff}
@media (prefers-color-scheme:dark){:root{--bg:#15171a;--fg:#e6e6e6;--muted:#9aa0a6;--line:#333;--link:#7ab7ff;
--ok:#56d364;--okbg:#12361c;--bad:#ff7b72;--badbg:#3c1618;--warn:#e3b341;--warnbg:#3a2c08;--run:#7ab7ff;--runbg:#0f2a44}}
body{margin:0;font:15px/1.45 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.2em 1em;align-items:center;padding:.5em 1em;border-bottom:1px solid var(--line)}
header .brand{font-weight:bold;margin-right:1em}
main{padding:1em;max-width:80em}
a{color:var(--link)}a:focus{outline:2px solid var(--link)}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--line);vertical-align:top}
.scroll{overflow-x:auto}
.status{display:inline-block;padding:0 .4em;border-radius:.3em;font-size:.9em;white-space:nowrap}
.s-ok{color:var(--ok);background:var(--okbg)}.s-bad{color:var(--bad);background:var(--badbg)}
.s-warn{color:var(--warn);background:var(--warnbg)}.s-run{color:var(--run);background:var(--runbg)}
.muted{color:var(--muted)}pre{white-space:pre-wrap;word-break:break-all;background:var(--line);padding:.5em}
.pager a,.pager span{margin-right:.8em}code{font-size:.9em;word-break:break-all}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em}dt{color:var(--muted)}dd{margin:0}
input,select,textarea{max-width:100%;box-sizing:border-box}fieldset{min-width:0}
@media (max-width:40em){form.config table{display:block;overflow-x:auto}}
)css";
}

Response pageResponse(const Site& site, std::string_view title, const Html& body, int status)
{
    return pageResponse(site, title, body, PageOptions{.status = status});
}

Response pageResponse(const Site& site, std::string_view title, const Html& body, const PageOptions& options)
{
    bool script = !options.liveOn.empty() || options.followsLog;
    Html h;
    h.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
        .text(title)
        .raw(" – Hydra</title><link rel=\"stylesheet\" href=\"")
        .text(site.url("/static/style.css"))
        .raw("\">");
    if (script) h.raw("<script defer src=\"").text(site.url("/static/live.js")).raw("\"></script>");
    h.raw("</head><body><header><a class=\"brand\" href=\"").text(site.url("/")).raw("\">Hydra</a><nav>");
    h.link(site.url("/queue"), "Queue").raw(" ");
    h.link(site.url("/status"), "Running").raw(" ");
    h.link(site.url("/machines"), "Machines").raw(" ");
    h.link(site.url("/evals"), "Evaluations").raw(" ");
    h.link(site.url("/steps"), "Steps").raw("</nav><form action=\"");
    h.text(site.url("/search"))
        .raw("\" method=\"get\" role=\"search\"><input name=\"query\" aria-label=\"Search\" "
             "placeholder=\"Search\">"
             "</form>")
        .raw("<!--hydra-account-->")
        .raw("</header><main");
    if (!options.liveOn.empty())
        h.raw(" data-live=\"")
            .text(fmt::format("{}", fmt::join(options.liveOn, " ")))
            .raw("\" data-events=\"")
            .text(site.url("/events"))
            .raw("\"");
    if (!options.liveOn.empty() && !options.liveBuild.empty())
        h.raw(" data-live-build=\"").text(options.liveBuild).raw("\"");
    h.raw("><h1>").text(title).raw("</h1>").append(body).raw("</main></body></html>\n");
    Response r;
    r.status = options.status;
    r.body = h.str();
    return r;
}

} // namespace hydra::server
