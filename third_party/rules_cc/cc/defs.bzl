"""Stand-in for @rules_cc//cc:defs.bzl that forwards to Bazel 4.2.3's native C++ rules.

Debian's bazel-rules-cc 0.0.4 uses `use_cpp_toolchain`, which arrived in Bazel 5.1, so it
does not load here. BUILD files load these names exactly as they would from rules_cc.
"""

def cc_library(**attrs):
    native.cc_library(**attrs)

def cc_binary(**attrs):
    native.cc_binary(**attrs)

def cc_test(**attrs):
    native.cc_test(**attrs)

def cc_import(**attrs):
    native.cc_import(**attrs)

def cc_proto_library(**attrs):
    native.cc_proto_library(**attrs)

def cc_toolchain(**attrs):
    native.cc_toolchain(**attrs)

def cc_toolchain_suite(**attrs):
    native.cc_toolchain_suite(**attrs)

def objc_library(**attrs):
    native.objc_library(**attrs)
