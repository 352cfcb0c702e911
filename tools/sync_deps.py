#!/usr/bin/env python3
"""Keeps the third-party deps of ironwal's BUILD files equal to what their sources include.

Every cc_library / cc_binary / cc_test under ironwal/, tests/, benchmarks/ and examples/
(a list comprehension of them counts as one target with the union of its instances' files)
depends on exactly the canonical third-party targets that the `#include` lines of its own
srcs and hdrs name:

  absl/...            @com_google_absl//absl/<pkg>:<target>, the Abseil 20220623.1 target
                      that owns the header (table: tools/absl_headers.txt)
  gtest/..., gmock/.. @com_google_googletest//:gtest, or //:gtest_main for a cc_test whose
                      sources define no main()
  benchmark/...       @com_github_google_benchmark//:benchmark, or //:benchmark_main for a
                      cc_binary whose sources define no main()
  lz4*.h              @lz4//:lz4
  zlib.h              //third_party:zlib (tests only: a reference CRC-32)
  raft.h, raft/...    @raft//:raft (Canonical raft, //ironwal/raft)
  uv.h, uv/...        @libuv//:libuv

Headers of other ironwal targets bring nothing: each target lists its own includes' deps.
The script replaces those deps (and the old //third_party:absl, gtest, gtest_main,
benchmark, benchmark_main, lz4 labels) and leaves every other dep as it is.

  tools/sync_deps.py            rewrite the BUILD files that are out of date
  tools/sync_deps.py --check    rewrite nothing; exit 1 if any BUILD file is out of date
  tools/sync_deps.py --absl-map ABSEIL_ARCHIVE_OR_DIR
                                regenerate tools/absl_headers.txt from Abseil's BUILD files

examples/monorepo and examples/consumer are their own workspaces: labels there refer to
ironwal as @ironwal, and the rule is the same.
"""

import argparse
import ast
import os
import re
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ("ironwal", "tests", "benchmarks", "examples")
ABSL_MAP = os.path.join(ROOT, "tools", "absl_headers.txt")
CC_RULES = ("cc_library", "cc_binary", "cc_test")

GTEST = "@com_google_googletest//:gtest"
GTEST_MAIN = "@com_google_googletest//:gtest_main"
BENCHMARK = "@com_github_google_benchmark//:benchmark"
BENCHMARK_MAIN = "@com_github_google_benchmark//:benchmark_main"
LZ4 = "@lz4//:lz4"
RAFT = "@raft//:raft"
LIBUV = "@libuv//:libuv"
ZLIB = "//third_party:zlib"
LZ4_HEADERS = ("lz4.h", "lz4frame.h", "lz4hc.h", "lz4frame_static.h")

# Labels this script owns: replaced wholesale on every run.
MANAGED_PREFIXES = (
    "@com_google_absl//",
    "@com_google_googletest//",
    "@com_github_google_benchmark//",
    "@lz4//",
    "@raft//",
    "@libuv//",
)
MANAGED_LABELS = {
    "//third_party:absl",
    "//third_party:gtest",
    "//third_party:gtest_main",
    "//third_party:benchmark",
    "//third_party:benchmark_main",
    "//third_party:lz4",
    "//third_party:zlib",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)
MAIN_RE = re.compile(r"^\s*int\s+main\s*\(|^\s*BENCHMARK_MAIN\s*\(", re.M)


def load_absl_map():
    table = {}
    with open(ABSL_MAP) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                header, label = line.split()
                table[header] = label
    return table


def managed(label):
    return label in MANAGED_LABELS or label.startswith(MANAGED_PREFIXES)


def external_deps(rule, files, absl_map, where):
    """The canonical third-party labels the files' includes need."""
    deps = set()
    has_main = False
    for path in files:
        if not os.path.exists(path):
            continue  # generated or missing: Bazel reports it
        with open(path, encoding="utf-8") as f:
            text = f.read()
        has_main = has_main or bool(MAIN_RE.search(text))
        for header in INCLUDE_RE.findall(text):
            if header.startswith("absl/"):
                if header not in absl_map:
                    sys.exit(f"{where}: {path} includes {header}, which no Abseil target owns")
                deps.add(absl_map[header])
            elif header.startswith(("gtest/", "gmock/")):
                deps.add(GTEST)
            elif header.startswith("benchmark/"):
                deps.add(BENCHMARK)
            elif header in LZ4_HEADERS:
                deps.add(LZ4)
            elif header == "zlib.h":
                deps.add(ZLIB)
            elif header == "raft.h" or header.startswith("raft/"):
                deps.add(RAFT)
            elif header == "uv.h" or header.startswith("uv/"):
                deps.add(LIBUV)
    if GTEST in deps and rule == "cc_test" and not has_main:
        deps.discard(GTEST)
        deps.add(GTEST_MAIN)
    if BENCHMARK in deps and rule == "cc_binary" and not has_main:
        deps.discard(BENCHMARK)
        deps.add(BENCHMARK_MAIN)
    return deps


def label_key(label):
    # buildifier's order: local (":x") labels, then "//" labels, then external ones.
    rank = 0 if label.startswith(":") else 1 if label.startswith("//") else 2
    return (rank, label)


def literal(node, env):
    """Evaluates the string-list expressions BUILD files use for srcs/hdrs/deps."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in env:
        return [env[node.id]]
    if isinstance(node, ast.List):
        out = []
        for elt in node.elts:
            out.extend(literal(elt, env))
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = literal(node.left, env), literal(node.right, env)
        if isinstance(node.left, ast.List) or isinstance(node.right, ast.List):
            return left + right
        if len(left) == 1 and len(right) == 1:
            return [left[0] + right[0]]
        return left + right
    raise ValueError(ast.dump(node)[:80])  # glob(), select(), a variable: unreadable


def cc_targets(tree):
    """Yields (rule, call, [env, ...]) for every cc_* call, one env per comprehension item."""
    for stmt in tree.body:
        if not isinstance(stmt, ast.Expr):
            continue
        node, envs = stmt.value, [{}]
        if isinstance(node, ast.ListComp):
            gen = node.generators[0]
            if not (isinstance(gen.target, ast.Name) and isinstance(gen.iter, ast.List)):
                continue  # not a comprehension over a list of names: left alone
            envs = [{gen.target.id: v} for v in literal(gen.iter, {})]
            node = node.elt
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and
                node.func.id in CC_RULES):
            yield node.func.id, node, envs


def offset(lines, lineno, col):
    return sum(len(l) for l in lines[:lineno - 1]) + col


def format_deps(deps, indent):
    if len(deps) == 1:
        return f'["{deps[0]}"]'
    inner = "".join(f'{indent}    "{d}",\n' for d in deps)
    return "[\n" + inner + indent + "]"


def sync_file(path, absl_map):
    """Returns the BUILD file's text with its third-party deps recomputed."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    tree = ast.parse(text, filename=path)
    lines = text.splitlines(keepends=True)
    pkg_dir = os.path.dirname(path)
    edits = []  # (start, end, replacement)
    for rule, call, envs in cc_targets(tree):
        kw = {k.arg: k for k in call.keywords}
        files = []
        where = f"{os.path.relpath(path, ROOT)}:{call.lineno}"
        for env in envs:
            for attr in ("srcs", "hdrs"):
                if attr not in kw:
                    continue
                try:
                    names = literal(kw[attr].value, env)
                except ValueError:
                    sys.exit(f"{where}: {attr} is not a list of file names; cannot sync deps")
                files += [os.path.join(pkg_dir, s) for s in names
                          if not s.startswith((":", "//", "@"))]
        wanted = external_deps(rule, files, absl_map, where)
        if "deps" in kw:
            node = kw["deps"].value
            if not isinstance(node, ast.List):
                sys.exit(f"{where}: deps is not a plain list; cannot sync it")
            try:
                old = literal(node, {})
            except ValueError:
                sys.exit(f"{where}: deps is not a plain list of labels; cannot sync it")
            kept = [d for d in old if not managed(d)]
            new = sorted(set(kept) | wanted, key=label_key)
            if new == old:
                continue
            start = offset(lines, node.lineno, node.col_offset)
            end = offset(lines, node.end_lineno, node.end_col_offset)
            indent = re.match(r"\s*", lines[kw["deps"].lineno - 1]).group(0)
            if new:
                edits.append((start, end, format_deps(new, indent)))
            else:  # drop the whole `deps = [...],` line(s)
                start = offset(lines, kw["deps"].lineno, 0)
                end = offset(lines, node.end_lineno + 1, 0)
                edits.append((start, end, ""))
        elif wanted:
            last = call.keywords[-1].value
            end = offset(lines, last.end_lineno, last.end_col_offset)
            if text[end:end + 1] == ",":
                end += 1
            indent = re.match(r"\s*", lines[call.keywords[-1].lineno - 1]).group(0)
            new = sorted(wanted, key=label_key)
            edits.append((end, end, f"\n{indent}deps = {format_deps(new, indent)},"))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def build_files():
    for top in DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("bazel-"))
            for name in ("BUILD.bazel", "BUILD"):
                if name in filenames:
                    yield os.path.join(dirpath, name)


# --- Regenerating tools/absl_headers.txt from Abseil's own BUILD files ----------------------


def absl_build_files(source):
    if os.path.isdir(source):
        for dirpath, _, filenames in os.walk(source):
            if "BUILD.bazel" in filenames:
                rel = os.path.relpath(dirpath, source)
                with open(os.path.join(dirpath, "BUILD.bazel"), encoding="utf-8") as f:
                    yield rel, f.read()
        return
    with tarfile.open(source) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if parts[-1] == "BUILD.bazel" and len(parts) > 2:
                yield "/".join(parts[1:-1]), tar.extractfile(member).read().decode()


def write_absl_map(source):
    owners = {}
    for pkg, text in sorted(absl_build_files(source)):
        if not pkg.startswith("absl"):
            continue
        for stmt in ast.parse(text).body:
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and
                    call.func.id == "cc_library"):
                continue
            kw = {k.arg: k.value for k in call.keywords}
            try:
                name = literal(kw["name"], {})[0]
                hdrs = literal(kw.get("hdrs", ast.List(elts=[])), {})
            except ValueError:
                continue  # computed attributes: none of Abseil's public targets
            if "testonly" in kw or "visibility" in kw and "public" not in ast.dump(kw["visibility"]):
                continue  # tests' helpers and Abseil-internal targets
            label = f"@com_google_absl//{pkg}" + ("" if name == pkg.split("/")[-1] else f":{name}")
            for hdr in hdrs:
                owners.setdefault(f"{pkg}/{hdr}", label)  # first public owner wins
    with open(ABSL_MAP, "w") as f:
        f.write("# Abseil 20220623.1: public header -> the public target that owns it.\n")
        f.write("# Generated by `tools/sync_deps.py --absl-map <abseil archive>`; do not edit.\n")
        for header in sorted(owners):
            f.write(f"{header} {owners[header]}\n")
    print(f"wrote {len(owners)} headers to {os.path.relpath(ABSL_MAP, ROOT)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if out of date")
    parser.add_argument("--absl-map", metavar="ABSEIL", help="regenerate the header table")
    args = parser.parse_args()
    if args.absl_map:
        write_absl_map(args.absl_map)
        return 0
    absl_map = load_absl_map()
    stale = []
    for path in build_files():
        with open(path, encoding="utf-8") as f:
            old = f.read()
        new = sync_file(path, absl_map)
        if new != old:
            stale.append(os.path.relpath(path, ROOT))
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(new)
    verb = "out of date" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path}")
    if args.check and stale:
        print("run tools/sync_deps.py to update them", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
