#include "ironwal/env/internal/sim_crash.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "ironwal/env/env.h"
#include "ironwal/env/internal/sim_state.h"

namespace ironwal {
namespace internal {
namespace {

constexpr uint64_t kSectorSize = 512;

bool HasPending(const FileNode& file) { return !file.dirty.empty() || file.length_dirty; }

// How many volatile bytes dirty block `block` holds.
uint64_t Extent(const FileNode& file, uint64_t block, uint32_t block_size) {
  return std::min<uint64_t>((block + 1) * block_size, file.data.size()) - block * block_size;
}

// kKeepPrefix: a cut uniform over the dirty blocks' bytes in file order, plus one more
// position past them (only when the length is dirty) that keeps the length as well.
FileCrashChoice ChooseKeepPrefix(const FileNode& file, uint32_t block_size, SimRandom* rng) {
  uint64_t total = 0;
  for (uint64_t block : file.dirty) total += Extent(file, block, block_size);
  const uint64_t cut = rng->Uniform(total + 1 + (file.length_dirty ? 1 : 0));
  FileCrashChoice choice;
  if (cut > total) {
    choice.whole_blocks.assign(file.dirty.begin(), file.dirty.end());
    choice.keep_length = true;
    return choice;
  }
  uint64_t done = 0;
  for (uint64_t block : file.dirty) {
    const uint64_t extent = Extent(file, block, block_size);
    if (done + extent > cut) {
      if (cut > done) {
        choice.has_partial = true;
        choice.partial_block = block;
        choice.partial_bytes = cut - done;
      }
      break;
    }
    choice.whole_blocks.push_back(block);
    done += extent;
  }
  return choice;
}

// kKeepRandomBlocks: a coin per dirty block in order, then one for the length if dirty.
FileCrashChoice ChooseRandomBlocks(const FileNode& file, SimRandom* rng) {
  FileCrashChoice choice;
  for (uint64_t block : file.dirty) {
    if (rng->Coin()) choice.whole_blocks.push_back(block);
  }
  if (file.length_dirty) choice.keep_length = rng->Coin();
  return choice;
}

// kTearBlock: the cut block uniform among the dirty blocks; those before it survive, it
// keeps a number of leading sectors uniform in [0, its sector count), and the length covers
// it. Without dirty blocks, a coin for a dirty length.
FileCrashChoice ChooseTearBlock(const FileNode& file, uint32_t block_size, SimRandom* rng) {
  FileCrashChoice choice;
  if (file.dirty.empty()) {
    if (file.length_dirty) choice.keep_length = rng->Coin();
    return choice;
  }
  const std::vector<uint64_t> blocks(file.dirty.begin(), file.dirty.end());
  const uint64_t cut = rng->Uniform(blocks.size());
  choice.whole_blocks.assign(blocks.begin(), blocks.begin() + cut);
  const uint64_t sectors = (Extent(file, blocks[cut], block_size) + kSectorSize - 1) / kSectorSize;
  choice.has_partial = true;
  choice.partial_block = blocks[cut];
  choice.partial_bytes = rng->Uniform(sectors) * kSectorSize;
  choice.partial_covers_block = true;
  return choice;
}

void ApplyDirOp(const DirOp& op, Entries* entries) {
  if (!op.erase.empty()) entries->erase(op.erase);
  if (!op.set.empty()) (*entries)[op.set] = op.node;
}

// Builds the post-crash tree; each inode is built once, so names sharing an inode before
// the crash share it after.
class TreeBuilder {
 public:
  TreeBuilder(const CrashChoices& choices, uint32_t block_size)
      : choices_(choices), block_size_(block_size) {}

  std::shared_ptr<DirNode> Dir(const DirNode& old) {
    auto it = built_.find(old.id);
    if (it != built_.end()) return std::static_pointer_cast<DirNode>(it->second);
    auto dir = std::make_shared<DirNode>(old.id);
    built_[old.id] = dir;
    Entries kept = old.durable_entries;
    auto prefix = choices_.dir_prefix.find(old.id);
    const size_t n = prefix == choices_.dir_prefix.end() ? 0 : prefix->second;
    for (size_t i = 0; i < n && i < old.unsynced.size(); ++i) ApplyDirOp(old.unsynced[i], &kept);
    for (const auto& [name, node] : kept) {
      dir->entries[name] = node->is_dir ? std::shared_ptr<Node>(Dir(static_cast<DirNode&>(*node)))
                                        : File(static_cast<const FileNode&>(*node));
    }
    dir->durable_entries = dir->entries;
    return dir;
  }

 private:
  std::shared_ptr<Node> File(const FileNode& old) {
    auto it = built_.find(old.id);
    if (it != built_.end()) return it->second;
    auto file = std::make_shared<FileNode>(old.id);
    built_[old.id] = file;
    std::string image = old.durable;
    auto choice = choices_.files.find(old.id);
    if (choice != choices_.files.end()) {
      ApplyKeptChanges(old, choice->second, block_size_, &image);
    }
    file->data.Append(image);
    file->durable = std::move(image);
    file->allocated = old.allocated;
    return file;
  }

  const CrashChoices& choices_;
  const uint32_t block_size_;
  std::map<uint64_t, std::shared_ptr<Node>> built_;
};

// A path for every candidate: its first name in the volatile tree, else in the durable
// tree, else the name an unsynced change gave it, else "inode N".
std::map<uint64_t, std::string> NameInodes(const std::shared_ptr<DirNode>& root,
                                           const CrashCandidates& candidates) {
  std::map<uint64_t, std::string> names = {{root->id, "/"}};
  for (const bool durable : {false, true}) {
    std::vector<const DirNode*> pending = {root.get()};
    while (!pending.empty()) {
      const DirNode* dir = pending.back();
      pending.pop_back();
      for (const auto& [name, node] : durable ? dir->durable_entries : dir->entries) {
        if (!names.emplace(node->id, JoinPath(names[dir->id], name)).second) continue;
        if (node->is_dir) pending.push_back(static_cast<const DirNode*>(node.get()));
      }
    }
  }
  for (const auto& [id, dir] : candidates.dirs) {
    for (const DirOp& op : dir->unsynced) {
      if (op.node == nullptr || names.count(id) == 0) continue;
      names.emplace(op.node->id, JoinPath(names[id], op.set));
    }
  }
  for (const auto& entry : candidates.files)
    names.emplace(entry.first, "inode " + std::to_string(entry.first));
  for (const auto& entry : candidates.dirs)
    names.emplace(entry.first, "inode " + std::to_string(entry.first));
  return names;
}

std::shared_ptr<Node> CopyNode(const std::shared_ptr<Node>& node,
                               std::map<uint64_t, std::shared_ptr<Node>>* copies) {
  if (node == nullptr) return nullptr;
  auto it = copies->find(node->id);
  if (it != copies->end()) return it->second;
  if (!node->is_dir) {
    const auto& old = static_cast<const FileNode&>(*node);
    auto file = std::make_shared<FileNode>(old.id);
    (*copies)[old.id] = file;
    file->data.Append(old.data.View(0, old.data.size()));
    file->durable = old.durable;
    file->dirty = old.dirty;
    file->length_dirty = old.length_dirty;
    file->allocated = old.allocated;
    return file;
  }
  const auto& old = static_cast<const DirNode&>(*node);
  auto dir = std::make_shared<DirNode>(old.id);
  (*copies)[old.id] = dir;
  for (const auto& [name, child] : old.entries) dir->entries[name] = CopyNode(child, copies);
  for (const auto& [name, child] : old.durable_entries) {
    dir->durable_entries[name] = CopyNode(child, copies);
  }
  for (const DirOp& op : old.unsynced) {
    dir->unsynced.push_back(DirOp{op.erase, op.set, CopyNode(op.node, copies), op.description});
  }
  return dir;
}

}  // namespace

CrashCandidates CollectCandidates(const std::shared_ptr<DirNode>& root) {
  CrashCandidates candidates;
  candidates.dirs[root->id] = root;
  std::vector<const DirNode*> pending = {root.get()};
  auto visit = [&](const std::shared_ptr<Node>& node) {
    if (node == nullptr) return;
    if (!node->is_dir) {
      candidates.files.emplace(node->id, std::static_pointer_cast<FileNode>(node));
    } else if (candidates.dirs.emplace(node->id, std::static_pointer_cast<DirNode>(node)).second) {
      pending.push_back(static_cast<const DirNode*>(node.get()));
    }
  };
  while (!pending.empty()) {
    const DirNode* dir = pending.back();
    pending.pop_back();
    for (const auto& entry : dir->entries) visit(entry.second);
    for (const auto& entry : dir->durable_entries) visit(entry.second);
    for (const DirOp& op : dir->unsynced) visit(op.node);
  }
  return candidates;
}

CrashChoices ChooseRandom(const CrashCandidates& candidates, const CrashOptions& options,
                          uint32_t block_size, SimRandom* rng) {
  CrashChoices choices;
  if (options.keep_unsynced_dir_ops) {
    for (const auto& [id, dir] : candidates.dirs) {
      if (!dir->unsynced.empty()) choices.dir_prefix[id] = rng->Uniform(dir->unsynced.size() + 1);
    }
  }
  if (options.mode == CrashMode::kDropUnsynced) return choices;
  for (const auto& [id, file] : candidates.files) {
    if (!HasPending(*file)) continue;
    switch (options.mode) {
      case CrashMode::kKeepPrefix:
        choices.files[id] = ChooseKeepPrefix(*file, block_size, rng);
        break;
      case CrashMode::kKeepRandomBlocks:
        choices.files[id] = ChooseRandomBlocks(*file, rng);
        break;
      case CrashMode::kTearBlock:
        choices.files[id] = ChooseTearBlock(*file, block_size, rng);
        break;
      case CrashMode::kDropUnsynced:
        break;
    }
  }
  return choices;
}

CrashChoices ChooseFromPlan(const CrashCandidates& candidates, const CrashPlan& plan) {
  CrashChoices choices;
  auto pending_block = [&](uint64_t inode, uint64_t block) {
    auto it = candidates.files.find(inode);
    return it != candidates.files.end() && it->second->dirty.count(block) != 0;
  };
  for (const PendingChange& change : plan.keep) {
    if (change.kind == PendingChange::Kind::kDirOp) {
      auto dir = candidates.dirs.find(change.inode);
      if (dir == candidates.dirs.end() || change.block >= dir->second->unsynced.size()) continue;
      size_t& prefix = choices.dir_prefix[change.inode];
      prefix = std::max<size_t>(prefix, change.block + 1);
    } else if (change.kind == PendingChange::Kind::kBlock) {
      if (pending_block(change.inode, change.block)) {
        choices.files[change.inode].whole_blocks.push_back(change.block);
      }
    } else {
      auto file = candidates.files.find(change.inode);
      if (file != candidates.files.end() && file->second->length_dirty) {
        choices.files[change.inode].keep_length = true;
      }
    }
  }
  if (plan.tear && pending_block(plan.torn_inode, plan.torn_block)) {
    FileCrashChoice& choice = choices.files[plan.torn_inode];
    choice.whole_blocks.erase(
        std::remove(choice.whole_blocks.begin(), choice.whole_blocks.end(), plan.torn_block),
        choice.whole_blocks.end());
    choice.has_partial = true;
    choice.partial_block = plan.torn_block;
    choice.partial_bytes = plan.torn_bytes;
    choice.partial_covers_block = true;
  }
  for (auto& entry : choices.files) {
    std::vector<uint64_t>& blocks = entry.second.whole_blocks;
    std::sort(blocks.begin(), blocks.end());
    blocks.erase(std::unique(blocks.begin(), blocks.end()), blocks.end());
  }
  return choices;
}

std::shared_ptr<DirNode> BuildCrashTree(const DirNode& root, const CrashChoices& choices,
                                        uint32_t block_size) {
  return TreeBuilder(choices, block_size).Dir(root);
}

std::vector<PendingChange> ListPending(const std::shared_ptr<DirNode>& root) {
  const CrashCandidates candidates = CollectCandidates(root);
  std::map<uint64_t, std::string> names = NameInodes(root, candidates);
  std::map<uint64_t, const Node*> nodes;
  for (const auto& entry : candidates.files) nodes[entry.first] = entry.second.get();
  for (const auto& entry : candidates.dirs) nodes[entry.first] = entry.second.get();
  std::vector<PendingChange> changes;
  using Kind = PendingChange::Kind;
  for (const auto& [id, node] : nodes) {
    const std::string& path = names[id];
    if (node->is_dir) {
      const auto& dir = static_cast<const DirNode&>(*node);
      for (size_t i = 0; i < dir.unsynced.size(); ++i) {
        changes.push_back(PendingChange{Kind::kDirOp, id, path, i, dir.unsynced[i].description});
      }
      continue;
    }
    const auto& file = static_cast<const FileNode&>(*node);
    for (uint64_t block : file.dirty) {
      changes.push_back(PendingChange{Kind::kBlock, id, path, block,
                                      absl::StrCat("block ", block, " of ", path)});
    }
    if (file.length_dirty) {
      changes.push_back(PendingChange{
          Kind::kLength, id, path, 0,
          absl::StrCat("length of ", path, ": ", file.durable.size(), " -> ", file.data.size())});
    }
  }
  return changes;
}

std::shared_ptr<DirNode> CopyTree(const std::shared_ptr<DirNode>& root) {
  std::map<uint64_t, std::shared_ptr<Node>> copies;
  return std::static_pointer_cast<DirNode>(CopyNode(root, &copies));
}

// SimState's crash methods.

namespace {

constexpr std::pair<CrashMode, const char*> kModeNames[] = {
    {CrashMode::kDropUnsynced, "drop-unsynced"},
    {CrashMode::kKeepPrefix, "keep-prefix"},
    {CrashMode::kKeepRandomBlocks, "keep-random-blocks"},
    {CrashMode::kTearBlock, "tear-block"},
};

std::string ChangeArg(const PendingChange& change) {
  switch (change.kind) {
    case PendingChange::Kind::kBlock:
      return absl::StrCat("b", change.inode, ".", change.block);
    case PendingChange::Kind::kLength:
      return absl::StrCat("l", change.inode);
    case PendingChange::Kind::kDirOp:
      return absl::StrCat("d", change.inode, ".", change.block);
  }
  return "";
}

bool ParseChange(absl::string_view text, PendingChange* change) {
  if (text.empty()) return false;
  const char kind = text[0];
  std::vector<absl::string_view> numbers = absl::StrSplit(text.substr(1), '.');
  if (kind == 'l') {
    change->kind = PendingChange::Kind::kLength;
    return numbers.size() == 1 && absl::SimpleAtoi(numbers[0], &change->inode);
  }
  if (kind != 'b' && kind != 'd') return false;
  change->kind = kind == 'b' ? PendingChange::Kind::kBlock : PendingChange::Kind::kDirOp;
  return numbers.size() == 2 && absl::SimpleAtoi(numbers[0], &change->inode) &&
         absl::SimpleAtoi(numbers[1], &change->block);
}

bool ParsePlan(const std::vector<absl::string_view>& parts, CrashPlan* plan) {
  if (parts.size() < 2) return false;
  absl::string_view keep = parts[1];
  if (!absl::ConsumePrefix(&keep, "keep=")) return false;
  for (absl::string_view entry : absl::StrSplit(keep, ';', absl::SkipEmpty())) {
    PendingChange change;
    if (!ParseChange(entry, &change)) return false;
    plan->keep.push_back(change);
  }
  if (parts.size() == 2) return true;
  absl::string_view tear = parts[2];
  if (parts.size() != 3 || !absl::ConsumePrefix(&tear, "tear=")) return false;
  std::vector<absl::string_view> numbers = absl::StrSplit(tear, '.');
  plan->tear = true;
  return numbers.size() == 3 && absl::SimpleAtoi(numbers[0], &plan->torn_inode) &&
         absl::SimpleAtoi(numbers[1], &plan->torn_block) &&
         absl::SimpleAtoi(numbers[2], &plan->torn_bytes);
}

}  // namespace

std::string CrashArg(const CrashOptions& options, uint64_t rng_state) {
  std::string arg;
  for (const auto& [mode, name] : kModeNames) {
    if (mode == options.mode) arg = name;
  }
  if (options.keep_unsynced_dir_ops) absl::StrAppend(&arg, ",dirops");
  absl::StrAppend(&arg, ",rng=", rng_state);
  return arg;
}

std::string CrashArg(const CrashPlan& plan) {
  std::vector<std::string> keep;
  for (const PendingChange& change : plan.keep) keep.push_back(ChangeArg(change));
  std::string arg = absl::StrCat("plan,keep=", absl::StrJoin(keep, ";"));
  if (plan.tear) {
    absl::StrAppend(&arg, ",tear=", plan.torn_inode, ".", plan.torn_block, ".", plan.torn_bytes);
  }
  return arg;
}

std::optional<ParsedCrash> ParseCrashArg(absl::string_view arg) {
  const std::vector<absl::string_view> parts = absl::StrSplit(arg, ',');
  ParsedCrash crash;
  if (parts[0] == "plan") {
    crash.is_plan = true;
    if (!ParsePlan(parts, &crash.plan)) return std::nullopt;
    return crash;
  }
  bool named = false;
  for (const auto& [mode, name] : kModeNames) {
    if (parts[0] == name) {
      crash.options.mode = mode;
      named = true;
    }
  }
  if (!named) return std::nullopt;
  size_t next = 1;
  if (next < parts.size() && parts[next] == "dirops") {
    crash.options.keep_unsynced_dir_ops = true;
    ++next;
  }
  absl::string_view rng = next < parts.size() ? parts[next] : "";
  if (next + 1 != parts.size() || !absl::ConsumePrefix(&rng, "rng=") ||
      !absl::SimpleAtoi(rng, &crash.rng_state)) {
    return std::nullopt;
  }
  return crash;
}

void SimState::Crash(const CrashOptions& options) {
  MutexLock lock(&mu_);
  CrashLocked(options);
}

void SimState::CrashFromState(const CrashOptions& options, uint64_t rng_state) {
  MutexLock lock(&mu_);
  rng_.set_state(rng_state);
  CrashLocked(options);
}

// The record says how to draw the same crash again: the mode and the generator's state.
void SimState::CrashLocked(const CrashOptions& options) {
  OpRecord rec{SimOp::kCrash, "/"};
  if (detailed_) rec.arg = CrashArg(options, rng_.state());
  RecordBetween(rec);
  const CrashChoices choices =
      ChooseRandom(CollectCandidates(fs_.root()), options, options_.block_size, &rng_);
  InstallCrashState(BuildCrashTree(*fs_.root(), choices, options_.block_size));
}

void SimState::Crash(const CrashPlan& plan) {
  MutexLock lock(&mu_);
  OpRecord rec{SimOp::kCrash, "/"};
  if (detailed_) rec.arg = CrashArg(plan);
  RecordBetween(rec);
  const CrashChoices choices = ChooseFromPlan(CollectCandidates(fs_.root()), plan);
  InstallCrashState(BuildCrashTree(*fs_.root(), choices, options_.block_size));
}

void SimState::InstallCrashState(std::shared_ptr<DirNode> root) {
  fs_.ReplaceRoot(std::move(root), fs_.next_id());
  ++epoch_;
  locks_.Clear();
  power_cut_at_.reset();
}

std::vector<PendingChange> SimState::PendingChanges() {
  MutexLock lock(&mu_);
  return ListPending(fs_.root());
}

absl::StatusOr<std::string> SimState::DurableContents(const std::string& path) {
  MutexLock lock(&mu_);
  return fs_.DurableContents("durable-contents", path);
}

void SimState::CopyTo(SimState* copy) {
  MutexLock lock(&mu_);
  MutexLock copy_lock(&copy->mu_);
  copy->options_ = options_;
  copy->fs_.ReplaceRoot(CopyTree(fs_.root()), fs_.next_id());
  copy->rng_ = rng_;
  copy->clock_rng_ = clock_rng_;
  copy->now_micros_ = now_micros_;
  copy->mutating_ops_ = mutating_ops_;
}

}  // namespace internal
}  // namespace ironwal
