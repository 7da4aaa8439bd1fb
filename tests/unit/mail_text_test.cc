// The pieces of a mail that a server or a mail reader parses: SMTP's DATA dot-stuffing,
// quoted-printable bodies and RFC 2047 headers.

#include "notify/email.hh"
#include "notify/mail_text.hh"
#include "notify/smtp_client.hh"
#include "notify/status_text.hh"

#include <gtest/gtest.h>

using namespace hydra::notify;

TEST(SmtpData, DotStuffsAndEndsWithCrLfDotCrLf)
{
    EXPECT_EQ(smtpDataPayload("a\n.\n..b\nc"), "a\r\n..\r\n...b\r\nc\r\n.\r\n");
    EXPECT_EQ(smtpDataPayload(".first\r\nsecond\r\n"), "..first\r\nsecond\r\n.\r\n");
    EXPECT_EQ(smtpDataPayload(""), ".\r\n");
}

TEST(QuotedPrintable, EncodesNonAsciiEqualsAndTrailingSpace)
{
    EXPECT_EQ(quotedPrintable("job ‘x’ = 1 \nok"), "job =E2=80=98x=E2=80=99 =3D 1=20\nok");
}

TEST(QuotedPrintable, BreaksLongLinesSoftly)
{
    std::string line(200, 'a');
    std::string qp = quotedPrintable(line);
    size_t start = 0;
    std::string joined;
    while (start < qp.size()) {
        auto nl = qp.find('\n', start);
        std::string l = qp.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        EXPECT_LE(l.size(), 76u);
        if (!l.empty() && l.back() == '=') l.pop_back();
        joined += l;
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    EXPECT_EQ(joined, line);
}

TEST(HeaderValue, AsciiStaysAndUtf8IsEncodedWithoutInjection)
{
    EXPECT_EQ(encodeHeaderValue("Success: Hydra job p:js:hello"), "Success: Hydra job p:js:hello");
    EXPECT_EQ(encodeHeaderValue("a\r\nBcc: x"), "a  Bcc: x");
    EXPECT_EQ(encodeHeaderValue("é"), "=?UTF-8?B?w6k=?=");
}

TEST(StatusText, HydrasNames)
{
    EXPECT_EQ(showStatus(0), "Success");
    EXPECT_EQ(showStatus(1), "Failed");
    EXPECT_EQ(showStatus(2), "Dependency failed");
    EXPECT_EQ(showStatus(4), "Cancelled");
    EXPECT_EQ(showStatus(6), "Failed with output");
    EXPECT_EQ(showStatus(7), "Failed");
}
