// File: ironwal/env/internal/sim_crash.h
//
// The crash model of SimEnv over a MemFs with durability tracking: which unsynced changes
// exist, which ones a crash keeps (drawn from the seed per CrashMode, or listed in a
// CrashPlan), and the post-crash tree built from them. Also the deep copy behind
// SimEnv::Clone. Pure functions of their inputs (and of the generator's state).
#ifndef IRONWAL_ENV_INTERNAL_SIM_CRASH_H_
#define IRONWAL_ENV_INTERNAL_SIM_CRASH_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "ironwal/env/internal/mem_fs.h"
#include "ironwal/env/internal/sim_random.h"
#include "ironwal/env/sim_env.h"

namespace ironwal {
namespace internal {

// Every node a crash could keep: reachable from the root through volatile entries, durable
// entries or unsynced directory changes. Keyed (and so ordered) by inode id.
struct CrashCandidates {
  std::map<uint64_t, std::shared_ptr<FileNode>> files;
  std::map<uint64_t, std::shared_ptr<DirNode>> dirs;
};
CrashCandidates CollectCandidates(const std::shared_ptr<DirNode>& root);

// What survives: per directory how many of its unsynced changes (a prefix), per file its
// FileCrashChoice. Directories and files not listed keep nothing unsynced.
struct CrashChoices {
  std::map<uint64_t, size_t> dir_prefix;
  std::map<uint64_t, FileCrashChoice> files;
};

// Draws the choices for `options` from `rng`: first, if keep_unsynced_dir_ops, a prefix
// length uniform in [0, n] for each directory with n > 0 unsynced changes (in inode
// order); then, for each file with unsynced changes (in inode order), the choice of the
// mode (see sim_env.h).
CrashChoices ChooseRandom(const CrashCandidates& candidates, const CrashOptions& options,
                          uint32_t block_size, SimRandom* rng);

// The choices a CrashPlan lists (see sim_env.h). Entries naming nothing pending are ignored.
CrashChoices ChooseFromPlan(const CrashCandidates& candidates, const CrashPlan& plan);

// The post-crash tree: each directory's durable entries with its kept prefix of changes
// applied, each reachable file a fresh inode (same id) whose volatile and durable images
// are its durable image with the kept changes applied (ApplyKeptChanges).
std::shared_ptr<DirNode> BuildCrashTree(const DirNode& root, const CrashChoices& choices,
                                        uint32_t block_size);

// The unsynced changes, in inode order; per file its dirty blocks in order, then its
// length; per directory its changes oldest first.
std::vector<PendingChange> ListPending(const std::shared_ptr<DirNode>& root);

// The arg of a kCrash trace record (see sim_trace.h): "<mode>[,dirops],rng=<state>" for a
// crash drawn from the generator in state `rng_state`; "plan,keep=<changes>[,tear=...]"
// for a CrashPlan, each kept change "b<inode>.<block>", "l<inode>" or "d<inode>.<index>"
// (';'-separated), the tear "<inode>.<block>.<bytes>".
std::string CrashArg(const CrashOptions& options, uint64_t rng_state);
std::string CrashArg(const CrashPlan& plan);
struct ParsedCrash {
  bool is_plan = false;
  CrashOptions options;  // with rng_state, when !is_plan
  uint64_t rng_state = 0;
  CrashPlan plan;
};
// CrashArg's text back; nullopt for anything else.
std::optional<ParsedCrash> ParseCrashArg(absl::string_view arg);

// A deep copy of the tree (volatile and durable state), keeping the sharing of inodes
// between names, durable entries and unsynced changes.
std::shared_ptr<DirNode> CopyTree(const std::shared_ptr<DirNode>& root);

}  // namespace internal
}  // namespace ironwal

#endif  // IRONWAL_ENV_INTERNAL_SIM_CRASH_H_
