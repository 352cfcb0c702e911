"""Compiler flags for ironwal's own code, defined once.

Warnings are errors here (never for third-party code). `-Werror=unused-result` makes a
dropped absl::Status or absl::StatusOr a compile error: Debian's Abseil marks both
[[nodiscard]].
"""

IRONWAL_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Werror=unused-result",
    "-Wnon-virtual-dtor",
    "-Wpointer-arith",
    "-Wvla",
    "-Wwrite-strings",
    "-Wmissing-declarations",
]

# Tests use gtest macros that compare signed and unsigned values.
IRONWAL_TEST_COPTS = IRONWAL_COPTS + [
    "-Wno-sign-compare",
]
