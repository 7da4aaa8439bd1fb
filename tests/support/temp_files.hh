#pragma once
// TempFilesTest: a test fixture with a private directory for the files a test writes.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <string>

namespace hydra::test {

/// Creates a fresh directory per test and removes it afterwards; write() puts files in it.
class TempFilesTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "hydra-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir = tmpl;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }

    /// Writes `text` to `name` (relative to the directory, parents created); returns its path.
    std::string write(const std::string& name, const std::string& text)
    {
        auto path = dir / name;
        std::filesystem::create_directories(path.parent_path());
        std::ofstream(path) << text;
        return path.string();
    }

    std::filesystem::path dir;
};

} // namespace hydra::test
