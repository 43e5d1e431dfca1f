#pragma once

// A fresh folder under $TMPDIR for one test (a state.dir, say), removed with
// everything in it when the test ends.

#include <stdlib.h> // mkdtemp

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

namespace eddy::test {

class temp_dir {
public:
    temp_dir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "eddy-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            throw std::runtime_error("cannot make a folder like " + pattern);
        }
        path = pattern;
    }
    ~temp_dir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    std::filesystem::path path;
};

} // namespace eddy::test
