#include "harness/webdriver.hh"

#include "harness/free_port.hh"
#include "harness/pg_fixture.hh"
#include "nix/signing.hh"
#include "util/error.hh"

#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <httplib.h>
#include <map>
#include <thread>

namespace hydra::test {

using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* const chromiumBinary = "/usr/bin/chromium";
const char* const driverBinary = "/usr/bin/chromedriver";
const char* const elementKey = "element-6066-11e4-a52e-4f735466cecf"; // W3C's name for element ids

/// An error answer of the driver, with WebDriver's error code ("no such element"...).
class WebDriverError : public Error {
public:
    WebDriverError(const std::string& code, const std::string& msg) : Error(msg), code_(code) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

// WebDriver takes keys one code point at a time; a UTF-8 string split accordingly.
std::vector<std::string> codePoints(const std::string& s)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

std::string currentTestName()
{
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (!info) return "outside-tests";
    return std::string(info->test_suite_name()) + "." + info->name();
}

std::string elementId(const json& value)
{
    if (!value.is_object() || !value.contains(elementKey))
        throw Error("WebDriver answered without an element: {}", value.dump());
    return value[elementKey].get<std::string>();
}

} // namespace

std::string browserArtifactDir()
{
    auto dir = std::string(HYDRA_BINARY_DIR) + "/test-artifacts/browser/" + currentTestName();
    std::filesystem::create_directories(dir);
    return dir;
}

void clearBrowserArtifacts()
{
    std::filesystem::remove_all(browserArtifactDir());
}

// ---- Element ----

void Element::click()
{
    browser_->command("POST", "/element/" + id_ + "/click");
}

void Element::sendKeys(const std::string& text)
{
    browser_->command("POST", "/element/" + id_ + "/value", {{"text", text}});
}

void Element::clear()
{
    browser_->command("POST", "/element/" + id_ + "/clear");
}

std::string Element::text()
{
    return browser_->command("GET", "/element/" + id_ + "/text").get<std::string>();
}

std::optional<std::string> Element::attribute(const std::string& name)
{
    auto v = browser_->command("GET", "/element/" + id_ + "/attribute/" + name);
    if (v.is_null()) return std::nullopt;
    return v.get<std::string>();
}

json Element::property(const std::string& name)
{
    return browser_->command("GET", "/element/" + id_ + "/property/" + name);
}

std::vector<Element> Element::findAll(const std::string& css)
{
    std::vector<Element> out;
    for (const auto& v : browser_->command("POST", "/element/" + id_ + "/elements",
                                           {{"using", "css selector"}, {"value", css}}))
        out.emplace_back(*browser_, elementId(v));
    return out;
}

json Element::ref() const
{
    return {{elementKey, id_}};
}

// ---- Browser: the driver and the session ----

Browser::Browser(BrowserOptions options)
{
    for (const char* program : {chromiumBinary, driverBinary})
        if (!std::filesystem::exists(program))
            throw Error("{} is missing: the browser tests need Debian's chromium and chromium-driver; "
                        "run scripts/setup.sh",
                        program);
    dir_ = makeTempDir("hydra-browser");
    startDriver();
    openSession(options);
}

Browser::~Browser()
{
    // Bounded: the session is ended politely, then the driver (and any browser left) is killed.
    if (!session_.empty()) {
        try {
            send("DELETE", "/session/" + session_, nullptr, 15s);
        } catch (const std::exception&) { // the kill below ends what the driver could not
        }
    }
    if (driver_) {
        driver_->kill(SIGTERM);
        if (!driver_->waitUntil(std::chrono::steady_clock::now() + 10s)) driver_->terminate();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

void Browser::startDriver()
{
    // The port is free when asked but may be taken before the driver binds it: a few tries.
    std::string lastLog;
    for (int attempt = 0; attempt < 3; ++attempt) {
        port_ = freeLoopbackPort();
        auto logFile = dir_ + "/chromedriver.log";
        driver_ = Process::spawn({.argv = {driverBinary, "--port=" + std::to_string(port_)},
                                  .outputFile = logFile,
                                  .dieWithParent = true});
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (std::chrono::steady_clock::now() < deadline) {
            if (driver_->waitUntil(std::chrono::steady_clock::now())) break; // it exited
            try {
                if (send("GET", "/status", nullptr, 5s).value("ready", false)) return;
            } catch (const std::exception&) { // not listening yet
            }
            std::this_thread::sleep_for(100ms);
        }
        std::ifstream f(logFile);
        lastLog.assign(std::istreambuf_iterator<char>(f), {});
        driver_->terminate();
        driver_.reset();
    }
    throw Error("chromedriver did not start: {}", lastLog);
}

void Browser::openSession(const BrowserOptions& options)
{
    json chrome{{"binary", chromiumBinary},
                {"args",
                 {"--headless=new",
                  // Tests run as root, where Chromium's own sandbox cannot start.
                  "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                  // /dev/shm may be tiny in a container; the browser then crashes on big pages.
                  "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=" + dir_ + "/profile"}}};
    if (!options.javascript) chrome["prefs"] = {{"profile.managed_default_content_settings.javascript", 2}};
    json caps{{"browserName", "chrome"},
              {"pageLoadStrategy", "normal"},
              {"timeouts", {{"pageLoad", 60000}, {"script", 30000}, {"implicit", 0}}},
              {"goog:chromeOptions", chrome}};
    auto v = send("POST", "/session", {{"capabilities", {{"alwaysMatch", caps}}}}, 90s);
    session_ = v.at("sessionId").get<std::string>();
}

json Browser::send(const std::string& method, const std::string& path, const json& body,
                   std::chrono::seconds timeout)
{
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(timeout.count(), 0);
    c.set_write_timeout(10, 0);
    auto r = method == "GET"      ? c.Get(path)
             : method == "DELETE" ? c.Delete(path)
                                  : c.Post(path, body.is_null() ? "{}" : body.dump(), "application/json");
    if (!r) throw Error("WebDriver {} {}: no answer ({})", method, path, httplib::to_string(r.error()));
    auto answer = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (answer.is_discarded() || !answer.contains("value"))
        throw Error("WebDriver {} {}: HTTP {} {}", method, path, r->status, r->body.substr(0, 500));
    const auto& value = answer["value"];
    if (r->status != 200) {
        auto code = value.is_object() ? value.value("error", "") : "";
        auto message = value.is_object() ? value.value("message", "") : value.dump();
        throw WebDriverError(code, fmt::format("WebDriver {} {}: {}: {}", method, path, code, message));
    }
    return value;
}

json Browser::command(const std::string& method, const std::string& path, const json& body)
{
    return send(method, "/session/" + session_ + path, body, 90s);
}

void Browser::chromeDevTools(const std::string& cmd, const json& params)
{
    command("POST", "/goog/cdp/execute", {{"cmd", cmd}, {"params", params}});
}

// ---- Browser: pages ----

void Browser::navigate(const std::string& url)
{
    command("POST", "/url", {{"url", url}});
}

void Browser::refresh()
{
    command("POST", "/refresh");
}

std::string Browser::url()
{
    return command("GET", "/url").get<std::string>();
}

std::string Browser::title()
{
    return command("GET", "/title").get<std::string>();
}

std::string Browser::pageText()
{
    return find("body", 0ms).text();
}

std::optional<Element> Browser::findNow(const std::string& css)
{
    try {
        return Element(*this,
                       elementId(command("POST", "/element", {{"using", "css selector"}, {"value", css}})));
    } catch (const WebDriverError& e) {
        if (e.code() == "no such element") return std::nullopt;
        throw;
    }
}

Element Browser::find(const std::string& css, std::chrono::milliseconds wait)
{
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        if (auto e = findNow(css)) return *e;
        if (std::chrono::steady_clock::now() >= deadline)
            throw Error("no element matches '{}' on {} (waited {} ms)", css, url(), wait.count());
        std::this_thread::sleep_for(100ms);
    }
}

std::vector<Element> Browser::findAll(const std::string& css)
{
    std::vector<Element> out;
    for (const auto& v : command("POST", "/elements", {{"using", "css selector"}, {"value", css}}))
        out.emplace_back(*this, elementId(v));
    return out;
}

Element Browser::activeElement()
{
    return {*this, elementId(command("GET", "/element/active"))};
}

json Browser::execute(const std::string& script, const json& args)
{
    return command("POST", "/execute/sync", {{"script", script}, {"args", args}});
}

void Browser::pressKeys(const std::string& keys)
{
    json actions = json::array();
    for (const auto& key : codePoints(keys)) {
        actions.push_back({{"type", "keyDown"}, {"value", key}});
        actions.push_back({{"type", "keyUp"}, {"value", key}});
    }
    command("POST", "/actions", {{"actions", {{{"type", "key"}, {"id", "keyboard"}, {"actions", actions}}}}});
    command("DELETE", "/actions");
}

bool Browser::waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        try {
            if (condition()) return true;
        } catch (const std::exception&) { // not yet: the page may be loading
        }
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(100ms);
    }
}

bool Browser::waitForText(const std::string& text, std::chrono::milliseconds timeout, bool reload)
{
    bool first = true;
    return waitUntil(
        [&] {
            if (reload && !std::exchange(first, false)) refresh();
            return pageText().find(text) != std::string::npos;
        },
        timeout);
}

// ---- Browser: the device ----

void Browser::setWindowSize(int width, int height)
{
    command("POST", "/window/rect", {{"width", width}, {"height", height}});
}

void Browser::emulatePhone(int width, int height)
{
    if (width == 0 && height == 0) {
        chromeDevTools("Emulation.clearDeviceMetricsOverride", json::object());
        return;
    }
    chromeDevTools("Emulation.setDeviceMetricsOverride",
                   {{"width", width}, {"height", height}, {"deviceScaleFactor", 2}, {"mobile", true}});
}

void Browser::emulateDarkScheme(bool dark)
{
    chromeDevTools("Emulation.setEmulatedMedia",
                   {{"features", {{{"name", "prefers-color-scheme"}, {"value", dark ? "dark" : ""}}}}});
}

void Browser::deleteCookies()
{
    // WebDriver's DELETE /cookie forgets only the current page's; a test's servers differ by port
    // alone, and cookies are shared across ports.
    chromeDevTools("Network.clearBrowserCookies", json::object());
}

void Browser::reset()
{
    navigate("about:blank");
    deleteCookies();
    emulatePhone(0, 0);
    emulateDarkScheme(false);
}

std::string Browser::screenshot(const std::string& label)
{
    static std::map<std::string, int> taken; // per test: the screenshots are numbered in order
    auto n = ++taken[currentTestName()];
    auto png = nix::base64Decode(command("GET", "/screenshot").get<std::string>(), "a screenshot");
    auto path = fmt::format("{}/{}-{}.png", browserArtifactDir(), n, label);
    std::ofstream(path, std::ios::binary) << png;
    return path;
}

} // namespace hydra::test
