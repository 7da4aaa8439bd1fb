// The script of live pages. Kept small and dependency-free; every page it touches is complete
// without it (it only appends to a log and swaps in a fresh copy of the page's main part).

#include "server/layout.hh"

namespace hydra::server {

std::string_view liveScript()
{
    return R"js("use strict";
(function () {
  if (!window.EventSource) return;
  var log = document.getElementById("log");
  if (log && log.dataset.follow) followLog(log);
  var main = document.querySelector("main[data-live]");
  if (main) refreshOn(main);

  // Appends a running step's log as it is written; the browser resumes a dropped stream from
  // the last offset it got (Last-Event-ID), so nothing is lost or shown twice.
  function followLog(pre) {
    var state = document.getElementById("log-state");
    var url = pre.dataset.follow + (pre.dataset.follow.indexOf("?") < 0 ? "?" : "&") +
      "from=" + encodeURIComponent(pre.dataset.offset || "0");
    var source = new EventSource(url);
    source.addEventListener("log", function (e) {
      var atEnd = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
      pre.appendChild(document.createTextNode(JSON.parse(e.data).text));
      if (atEnd) window.scrollTo(0, document.body.scrollHeight);
    });
    source.addEventListener("reset", function () { pre.textContent = ""; });
    source.addEventListener("end", function () {
      source.close();
      pre.dataset.ended = "1";
      if (state) state.textContent = "The step has ended: its log is complete.";
    });
  }

  // Fetches the page again (at most once a second) after an event it shows, and swaps in its
  // main part, unless the reader is typing in a form of it.
  function refreshOn(main) {
    var source = new EventSource(main.dataset.events);
    var timer = null, busy = false, again = false;
    var build = main.dataset.liveBuild;
    main.dataset.live.split(" ").concat(["resync"]).forEach(function (kind) {
      if (kind) source.addEventListener(kind, function (e) { if (concerns(e)) schedule(); });
    });
    // A build's page refreshes for its own events (and those naming no build), not the farm's.
    function concerns(e) {
      if (!build) return true;
      var fields = e.data ? JSON.parse(e.data) : [];
      return fields.length === 0 || fields.indexOf(build) >= 0;
    }
    function schedule() { if (!timer) timer = setTimeout(refresh, 1000); }
    function typing() {
      var a = document.activeElement;
      return a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName);
    }
    function refresh() {
      timer = null;
      if (busy || typing()) { again = true; if (!busy) schedule(); return; }
      busy = true;
      fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) return;
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
          if (!fresh) return;
          main.innerHTML = fresh.innerHTML;
          main.dataset.refreshed = String((Number(main.dataset.refreshed) || 0) + 1);
        })
        .catch(function () {})
        .then(function () {
          busy = false;
          if (again) { again = false; schedule(); }
        });
    }
  }
})();
)js";
}

} // namespace hydra::server
