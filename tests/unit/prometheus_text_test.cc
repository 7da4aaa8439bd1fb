// Prometheus exposition text: the format a scraper parses (HELP/TYPE lines, label escaping,
// values) and the metrics read from the queue runner's status document; the metrics address.

#include "metrics/metrics_server.hh"
#include "metrics/prometheus_text.hh"
#include "queue-runner/status_metrics.hh"
#include "util/error.hh"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace hydra;
using namespace hydra::metrics;
using namespace hydra::qr;

namespace {

/// The sample line of `name` with exactly `labels` (e.g. `{machine="a"}`), or "" if absent.
std::string sampleLine(const std::string& text, const std::string& nameAndLabels)
{
    std::string prefix = nameAndLabels + " ";
    size_t at = 0;
    while ((at = text.find(prefix, at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == '\n') return text.substr(at, text.find('\n', at) - at);
        at += prefix.size();
    }
    return "";
}

} // namespace

TEST(PrometheusText, FamilyHasHelpTypeAndSamplesInOrder)
{
    std::vector<MetricFamily> fs{
        {"hydra_steps_done_total", "Steps done", MetricType::Counter, {{{}, 7}}},
        {"hydra_machine_current_jobs",
         "Jobs",
         MetricType::Gauge,
         {{{{"machine", "ssh://a"}}, 2}, {{{"machine", "localhost"}}, 0}}},
    };
    EXPECT_EQ(renderPrometheusText(fs), "# HELP hydra_steps_done_total Steps done\n"
                                        "# TYPE hydra_steps_done_total counter\n"
                                        "hydra_steps_done_total 7\n"
                                        "# HELP hydra_machine_current_jobs Jobs\n"
                                        "# TYPE hydra_machine_current_jobs gauge\n"
                                        "hydra_machine_current_jobs{machine=\"ssh://a\"} 2\n"
                                        "hydra_machine_current_jobs{machine=\"localhost\"} 0\n");
}

TEST(PrometheusText, LabelValuesAndHelpAreEscaped)
{
    EXPECT_EQ(escapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escapeHelp("line\\one\ntwo \"quoted\""), "line\\\\one\\ntwo \"quoted\"");
    std::vector<MetricFamily> fs{{"m", "h\nx", MetricType::Gauge, {{{{"l", "x\"y"}, {"k", "z"}}, 1}}}};
    EXPECT_EQ(renderPrometheusText(fs), "# HELP m h\\nx\n# TYPE m gauge\nm{l=\"x\\\"y\",k=\"z\"} 1\n");
}

TEST(PrometheusText, ValuesAreSpelledAsTheFormatSays)
{
    EXPECT_EQ(formatSampleValue(0), "0");
    EXPECT_EQ(formatSampleValue(-3), "-3");
    EXPECT_EQ(formatSampleValue(12345678901.0), "12345678901");
    EXPECT_EQ(formatSampleValue(0.5), "0.5");
    EXPECT_EQ(formatSampleValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(formatSampleValue(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(formatSampleValue(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(PrometheusText, InvalidNamesAreRefused)
{
    EXPECT_THROW(renderPrometheusText({{"9lives", "h", MetricType::Gauge, {}}}), Error);
    EXPECT_THROW(renderPrometheusText({{"has-dash", "h", MetricType::Gauge, {}}}), Error);
    EXPECT_THROW(renderPrometheusText({{"m", "h", MetricType::Gauge, {{{{"bad label", "v"}}, 1}}}}), Error);
    EXPECT_THROW(renderPrometheusText({{"m", "h", MetricType::Gauge, {{{{"__reserved", "v"}}, 1}}}}), Error);
    EXPECT_NO_THROW(renderPrometheusText({{"ns:sub_name0", "h", MetricType::Gauge, {}}}));
}

TEST(StatusMetrics, StatusFiguresBecomeMetrics)
{
    auto status = nlohmann::json::parse(R"({
        "nrQueuedBuilds": 3, "nrUnfinishedSteps": 9, "nrRunnableSteps": 4, "nrBuildsDone": 11,
        "nrStepsDone": 17, "nrRetries": 2, "bytesSent": 1024, "bytesReceived": 2048, "uptime": 60,
        "activeStepsByStage": {"building": 2, "connecting": 1},
        "machines": {"ssh://b\"x": {"currentJobs": 2, "maxJobs": 4, "nrStepsDone": 5,
                                    "consecutiveFailures": 1, "enabled": false}},
        "machineTypes": {"x86_64-linux": {"runnable": 4, "running": 2, "waitTime": 30, "lastActive": 5}},
        "dbConnections": {"open": 3, "max": 8}})");
    auto text = renderPrometheusText(statusMetrics(status));
    EXPECT_EQ(sampleLine(text, "hydra_queue_builds_queued"), "hydra_queue_builds_queued 3");
    EXPECT_EQ(sampleLine(text, "hydra_steps_runnable"), "hydra_steps_runnable 4");
    EXPECT_EQ(sampleLine(text, "hydra_steps_active{stage=\"building\"}"),
              "hydra_steps_active{stage=\"building\"} 2");
    EXPECT_EQ(sampleLine(text, "hydra_builds_done_total"), "hydra_builds_done_total 11");
    EXPECT_EQ(sampleLine(text, "hydra_steps_done_total"), "hydra_steps_done_total 17");
    EXPECT_EQ(sampleLine(text, "hydra_steps_retries_total"), "hydra_steps_retries_total 2");
    EXPECT_EQ(sampleLine(text, "hydra_bytes_received_total"), "hydra_bytes_received_total 2048");
    const std::string m = "{machine=\"ssh://b\\\"x\"}";
    EXPECT_EQ(sampleLine(text, "hydra_machine_current_jobs" + m), "hydra_machine_current_jobs" + m + " 2");
    EXPECT_EQ(sampleLine(text, "hydra_machine_steps_done_total" + m),
              "hydra_machine_steps_done_total" + m + " 5");
    EXPECT_EQ(sampleLine(text, "hydra_machine_consecutive_failures" + m),
              "hydra_machine_consecutive_failures" + m + " 1");
    EXPECT_EQ(sampleLine(text, "hydra_machine_enabled" + m), "hydra_machine_enabled" + m + " 0");
    const std::string t = "{machine_type=\"x86_64-linux\"}";
    EXPECT_EQ(sampleLine(text, "hydra_machine_type_runnable" + t), "hydra_machine_type_runnable" + t + " 4");
    EXPECT_EQ(sampleLine(text, "hydra_machine_type_running" + t), "hydra_machine_type_running" + t + " 2");
    EXPECT_EQ(sampleLine(text, "hydra_db_connections_open"), "hydra_db_connections_open 3");
    EXPECT_EQ(sampleLine(text, "hydra_db_connections_max"), "hydra_db_connections_max 8");
    EXPECT_NE(text.find("# TYPE hydra_builds_done_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("# TYPE hydra_queue_builds_queued gauge\n"), std::string::npos);
}

TEST(StatusMetrics, AnEmptyStatusStillHasEveryFamilyAtZero)
{
    auto text = renderPrometheusText(statusMetrics(nlohmann::json::object()));
    EXPECT_EQ(sampleLine(text, "hydra_queue_builds_queued"), "hydra_queue_builds_queued 0");
    EXPECT_EQ(sampleLine(text, "hydra_steps_done_total"), "hydra_steps_done_total 0");
    EXPECT_NE(text.find("# TYPE hydra_machine_current_jobs gauge\n"), std::string::npos);
}

TEST(MetricsAddress, HostAndPortAreSplit)
{
    auto a = parseListenAddress("127.0.0.1:9198");
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 9198);
    auto b = parseListenAddress("[::1]:80");
    EXPECT_EQ(b.host, "::1");
    EXPECT_EQ(b.port, 80);
    EXPECT_EQ(parseListenAddress("localhost:0").port, 0);
}

TEST(MetricsAddress, BadAddressesAreNamed)
{
    for (const char* bad : {"9198", ":9198", "host:", "host:port", "host:70000", "::1:80", "[::1:80"}) {
        try {
            parseListenAddress(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
        }
    }
}
