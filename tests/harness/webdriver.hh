#pragma once
// Browser: Debian's headless Chromium driven by chromedriver over the W3C WebDriver protocol, for
// tests of hydra-server's pages as people use them. Screenshots are kept as test artifacts under
// <build dir>/test-artifacts/browser/<Suite.Test>/.

#include "util/process.hh"

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hydra::test {

/// WebDriver's codes for keys that are not characters, for Browser::pressKeys and sendKeys.
namespace keys {
inline constexpr const char* tab = "\xEE\x80\x84";   // U+E004
inline constexpr const char* enter = "\xEE\x80\x87"; // U+E007
} // namespace keys

/// How the browser is started.
struct BrowserOptions {
    bool javascript = true; ///< false: the profile blocks scripts on every site, as a user may
};

class Browser;

/// One element of the page the browser shows (a WebDriver element reference).
class Element {
public:
    Element(Browser& browser, std::string id) : browser_(&browser), id_(std::move(id)) {}

    void click();
    /// Types `text` into the element (keys:: codes allowed).
    void sendKeys(const std::string& text);
    void clear();
    /// The text as rendered (hidden text left out).
    std::string text();
    /// The HTML attribute, nullopt when the element has none.
    std::optional<std::string> attribute(const std::string& name);
    /// A DOM property (value, checked...), as JSON.
    nlohmann::json property(const std::string& name);
    /// The elements inside this one matching the CSS selector.
    std::vector<Element> findAll(const std::string& css);
    /// The element as an argument of Browser::execute.
    nlohmann::json ref() const;

private:
    Browser* browser_;
    std::string id_;
};

/// A headless Chromium with its own profile, ended with its driver when the object goes.
class Browser {
public:
    /// Starts chromedriver on a free port and opens a session; throws naming scripts/setup.sh
    /// when chromium or chromedriver is not installed.
    explicit Browser(BrowserOptions options = {});
    ~Browser();
    Browser(const Browser&) = delete;
    Browser& operator=(const Browser&) = delete;

    /// Loads `url` and waits until the page has loaded.
    void navigate(const std::string& url);
    void refresh();
    std::string url();
    std::string title();
    /// The text of the whole page as rendered.
    std::string pageText();

    /// The first element matching the CSS selector, waiting up to `wait` for it to appear;
    /// throws naming the selector when none does.
    Element find(const std::string& css, std::chrono::milliseconds wait = std::chrono::seconds(10));
    /// The first match now, if any.
    std::optional<Element> findNow(const std::string& css);
    std::vector<Element> findAll(const std::string& css);
    /// The element that has the keyboard focus.
    Element activeElement();

    /// Runs `script` (a function body; `arguments` holds `args`) in the page; its return value.
    nlohmann::json execute(const std::string& script, const nlohmann::json& args = nlohmann::json::array());
    /// Presses and releases each key of `keys` on whatever has the focus, as a keyboard does.
    void pressKeys(const std::string& keys);

    /// Polls `condition` every 100 ms until it holds (true) or `timeout` passes (false). An
    /// exception from `condition` (say, the page is between two loads) counts as not yet.
    bool waitUntil(const std::function<bool()>& condition,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30));
    /// Waits until the page's text contains `text`, reloading it between looks when `reload`.
    bool waitForText(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(30),
                     bool reload = false);

    void setWindowSize(int width, int height);
    /// A phone's screen: a `width`×`height` viewport that honours the page's viewport meta
    /// tag, as a mobile browser does; 0×0 ends the emulation.
    void emulatePhone(int width, int height);
    /// prefers-color-scheme: dark when `dark`, else the default again.
    void emulateDarkScheme(bool dark);
    /// Forgets every cookie of every site (a fresh visitor).
    void deleteCookies();
    /// A fresh visitor on a blank page: no cookies, no emulated device or colour scheme.
    void reset();

    /// Saves the viewport as <n>-<label>.png in the current test's artifact directory; returns
    /// the file's path.
    std::string screenshot(const std::string& label);

    /// One WebDriver command of this session (`path` after /session/ID); its "value".
    nlohmann::json command(const std::string& method, const std::string& path,
                           const nlohmann::json& body = nlohmann::json::object());

private:
    nlohmann::json send(const std::string& method, const std::string& path, const nlohmann::json& body,
                        std::chrono::seconds timeout);
    void startDriver();
    void openSession(const BrowserOptions& options);
    void chromeDevTools(const std::string& cmd, const nlohmann::json& params);

    std::string dir_; ///< the profile and the driver's log
    int port_ = 0;
    std::optional<Process> driver_;
    std::string session_;
};

/// Where the screenshots of the current test go (created on demand).
std::string browserArtifactDir();
/// Removes the current test's screenshots of an earlier run.
void clearBrowserArtifacts();

} // namespace hydra::test
