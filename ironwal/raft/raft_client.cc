// raft_client: talks to a raft_node cluster (client.h's protocol).
//
//   raft_client --nodes=127.0.0.1:9101,127.0.0.1:9102,127.0.0.1:9103 put TEXT...
//       submits each TEXT to the leader and prints "committed #n TEXT" once applied
//   raft_client --nodes=... put-n COUNT [PREFIX]   submits PREFIX0 .. PREFIX<COUNT-1>
//   raft_client --nodes=... status                 one line per node
//   raft_client --nodes=... read [NODE]            the commands node NODE (1-based, default
//                                                  1) has applied, one per line
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "ironwal/cli/finish_output.h"
#include "ironwal/raft/client.h"

namespace ironwal {
namespace raft {
namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "raft_client: %s\n", what.c_str());
  return 1;
}

int Main(int argc, char** argv) {
  std::vector<std::string> nodes;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--nodes=", 0) == 0) {
      nodes = absl::StrSplit(a.substr(8), ',');
    } else {
      args.push_back(a);
    }
  }
  if (nodes.empty() || args.empty()) return Fail("usage: --nodes=A,B,C put|put-n|status|read");
  const std::string& cmd = args[0];
  if (cmd == "put" || cmd == "put-n") {
    std::vector<std::string> texts(args.begin() + 1, args.end());
    if (cmd == "put-n") {
      uint64_t count = 0;
      if (args.size() < 2 || !absl::SimpleAtoi(args[1], &count)) return Fail("put-n COUNT");
      std::string prefix = args.size() > 2 ? args[2] : "entry-";
      texts.clear();
      for (uint64_t i = 0; i < count; ++i) texts.push_back(absl::StrCat(prefix, i));
    }
    ClusterClient client(nodes);
    for (const std::string& text : texts) {
      absl::StatusOr<uint64_t> n = client.Put(text, 10000);
      if (!n.ok()) return Fail(std::string(n.status().message()));
      if (cmd == "put") std::printf("committed #%llu %s\n", (unsigned long long)*n, text.c_str());
    }
    if (cmd == "put-n") std::printf("committed %zu entries\n", texts.size());
    return 0;
  }
  if (cmd == "status") {
    for (size_t i = 0; i < nodes.size(); ++i) {
      absl::StatusOr<NodeStatus> s = QueryStatus(nodes[i], 2000);
      if (!s.ok()) {
        std::printf("node %zu %s: %s\n", i + 1, nodes[i].c_str(),
                    std::string(s.status().message()).c_str());
        continue;
      }
      std::printf("node %zu %s: %s term %llu leader %llu applied %llu last %llu commands %llu\n",
                  i + 1, nodes[i].c_str(), s->state.c_str(), (unsigned long long)s->term,
                  (unsigned long long)s->leader, (unsigned long long)s->applied,
                  (unsigned long long)s->last, (unsigned long long)s->commands);
    }
    return 0;
  }
  if (cmd == "read") {
    size_t node = 1;
    if (args.size() > 1 && (!absl::SimpleAtoi(args[1], &node) || node < 1 || node > nodes.size())) {
      return Fail("read NODE: 1.." + std::to_string(nodes.size()));
    }
    absl::StatusOr<std::vector<std::string>> commands = ReadCommands(nodes[node - 1], 5000);
    if (!commands.ok()) return Fail(std::string(commands.status().message()));
    for (const std::string& c : *commands) std::printf("%s\n", c.c_str());
    return 0;
  }
  return Fail("unknown command " + cmd);
}

}  // namespace
}  // namespace raft
}  // namespace ironwal

// A "committed" line that did not reach standard output fails the command (FinishOutput).
int main(int argc, char** argv) {
  return ironwal::cli::FinishOutput(ironwal::raft::Main(argc, argv));
}
