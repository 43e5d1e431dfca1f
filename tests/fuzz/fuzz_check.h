#pragma once

// What every fuzz target shares: a check that stops the run (libFuzzer
// then reports the input) when a property of a successful decode fails.
// Only eddy::serde_error may leave a deserializer; anything else escaping
// a target is uncaught and aborts, which libFuzzer reports too.

#include <cstdio>
#include <cstdlib>

#define EDDY_FUZZ_CHECK(cond)                                                                  \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (false)
