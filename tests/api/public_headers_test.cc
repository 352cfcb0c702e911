// Checks that the public API shows only the API: no public header includes an internal one.
//
// The public headers are listed in tests/api/public_headers.txt, and the same files are
// this test's data (BUILD), passed as arguments: the list file first, then the headers.
// For each public header, every `#include "ironwal/..."` must name a listed header; since
// that holds for every listed header, nothing reachable from a public header is internal
// (by induction over the include graph). The list and the data must name the same files.
//
// Run from another workspace the paths arrive as external/<repo>/... or ../<repo>/...; they
// are compared from their "ironwal/" part on.
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

std::vector<std::string> g_args;  // argv[1..]: the list file, then the headers

// `path` from the repository root: "external/ironwal/ironwal/x.h" -> "ironwal/x.h".
std::string RepoPath(const std::string& path) {
  for (const std::string prefix : {"external/", "../"}) {
    if (path.compare(0, prefix.size(), prefix) == 0) {
      const size_t slash = path.find('/', prefix.size());
      if (slash != std::string::npos) return path.substr(slash + 1);
    }
  }
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::set<std::string> ListedHeaders() {
  std::set<std::string> listed;
  std::istringstream lines(ReadAll(g_args.at(0)));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(listed.insert(line).second) << line << " is listed twice";
  }
  return listed;
}

// The ironwal headers `text` includes (`#include "ironwal/..."` or <ironwal/...>), with
// their line numbers.
std::vector<std::pair<int, std::string>> IronwalIncludes(const std::string& text) {
  std::vector<std::pair<int, std::string>> includes;
  std::istringstream lines(text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const size_t hash = line.find_first_not_of(" \t");
    if (hash == std::string::npos || line[hash] != '#') continue;
    const size_t word = line.find_first_not_of(" \t", hash + 1);
    if (word == std::string::npos || line.compare(word, 7, "include") != 0) continue;
    const size_t open = line.find_first_of("\"<", word + 7);
    if (open == std::string::npos) continue;
    const size_t close = line.find_first_of("\">", open + 1);
    const std::string target = line.substr(open + 1, close - open - 1);
    if (target.compare(0, 8, "ironwal/") == 0) includes.emplace_back(number, target);
  }
  return includes;
}

TEST(PublicHeadersTest, ListAndDataAgree) {
  ASSERT_GE(g_args.size(), 2u) << "usage: public_headers_test LIST HEADER...";
  const std::set<std::string> listed = ListedHeaders();
  std::set<std::string> given;
  for (size_t i = 1; i < g_args.size(); ++i) given.insert(RepoPath(g_args[i]));
  for (const std::string& h : listed) {
    EXPECT_EQ(given.count(h), 1u) << h << " is listed but not in the test's data (BUILD)";
  }
  for (const std::string& h : given) {
    EXPECT_EQ(listed.count(h), 1u) << h << " is in the test's data but not listed";
  }
}

TEST(PublicHeadersTest, NoPublicHeaderIncludesAnInternalOne) {
  ASSERT_GE(g_args.size(), 2u);
  const std::set<std::string> listed = ListedHeaders();
  size_t checked_includes = 0;
  for (size_t i = 1; i < g_args.size(); ++i) {
    const std::string header = RepoPath(g_args[i]);
    for (const auto& [line, target] : IronwalIncludes(ReadAll(g_args[i]))) {
      ++checked_includes;
      EXPECT_EQ(listed.count(target), 1u)
          << "public header " << header << ":" << line << " includes " << target
          << ", which is internal (not in tests/api/public_headers.txt)";
    }
  }
  // ironwal/ironwal.h alone includes several: a parser that finds none is broken.
  EXPECT_GE(checked_includes, 5u);
}

TEST(PublicHeadersTest, TheParserSeesIncludes) {
  const auto found = IronwalIncludes(
      "// #include \"ironwal/not/this.h\"\n#include \"ironwal/a.h\"\n  #  include <ironwal/b.h>\n"
      "#include \"absl/c.h\"\n#include <vector>\n");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], std::make_pair(2, std::string("ironwal/a.h")));
  EXPECT_EQ(found[1], std::make_pair(3, std::string("ironwal/b.h")));
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) g_args.emplace_back(argv[i]);
  return RUN_ALL_TESTS();
}
