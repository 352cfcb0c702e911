// `ironwal checkpoints` and `ironwal route` against what ironwal 0.6.3 returned on its
// fixtures (list_checkpoints, load_latest_checkpoint, the routing vectors), and the
// sharded checks for verify and ls.
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/cli/args.h"
#include "ironwal/cli/sharded_commands.h"
#include "ironwal/cli/sharded_inspect.h"
#include "ironwal/env/env.h"
#include "ironwal/sharded/router.h"
#include "ironwal/testing/fixtures.h"
#include "ironwal/testing/status_matchers.h"
#include "ironwal/testing/test_knobs.h"

#include "tests/sharded/sharded_test_util.h"

namespace ironwal {
namespace cli {
namespace {

using ::ironwal::testing::FixtureCheckpoint;
using ::ironwal::testing::LoadRoutingVectors;
using ::ironwal::testing::LoadShardedFixture;
using ::ironwal::testing::ShardedFixture;
using ::ironwal::testing::ShardedFixtureNames;
using ::ironwal::testing::StatusIs;
using ::testing::HasSubstr;

TEST(CheckpointsCommandTest, JsonlIsWhatIronwal06Lists) {
  for (const std::string& name : ShardedFixtureNames()) {
    SCOPED_TRACE(name);
    ASSERT_OK_AND_ASSIGN(const ShardedFixture f, LoadShardedFixture(name));
    std::ostringstream out, err;
    ASSERT_EQ(RunCheckpoints({f.fixture.root, "--format", "jsonl"}, out, err), kExitOk)
        << err.str();
    std::vector<std::string> want;
    for (const auto& [user_id, ts] : f.listed) {
      const FixtureCheckpoint* entry = nullptr;
      for (const FixtureCheckpoint& c : f.checkpoints) {
        if (c.user_id == user_id && !c.superseded) entry = &c;
      }
      ASSERT_NE(entry, nullptr);
      want.push_back(absl::StrCat("{\"user_id_b64\":\"", absl::Base64Escape(user_id),
                                  "\",\"timestamp_ns\":", ts,
                                  ",\"shard_count\":", entry->shard_count, ",\"offsets\":[",
                                  absl::StrJoin(entry->offsets, ","),
                                  "],\"latest\":", user_id == f.latest ? "true" : "false", "}"));
    }
    EXPECT_EQ(out.str(), absl::StrJoin(want, "\n") + "\n");
    EXPECT_EQ(err.str(), "");
  }
}

TEST(CheckpointsCommandTest, TextAndUsage) {
  ASSERT_OK_AND_ASSIGN(const ShardedFixture f, LoadShardedFixture("sharded-basic"));
  std::ostringstream out, err;
  ASSERT_EQ(RunCheckpoints({f.fixture.root}, out, err), kExitOk);
  EXPECT_THAT(out.str(), HasSubstr("ckpt-3\t1796173304511252497\t4\t24,23,20,6\tlatest\n"));
  EXPECT_EQ(RunCheckpoints({f.fixture.root, "--format", "xml"}, out, err), kExitUsage);
  EXPECT_EQ(RunCheckpoints({}, out, err), kExitUsage);
}

TEST(RouteCommandTest, RoutesEveryVectorAsIronwal06) {
  ASSERT_OK_AND_ASSIGN(const auto vectors, LoadRoutingVectors());
  for (uint32_t count : {1u, 7u, 256u}) {
    std::vector<std::string> args = {"--shards", absl::StrCat(count)};
    std::string want;
    for (const auto& v : vectors) {
      args.push_back("--key-b64");
      args.push_back(absl::Base64Escape(v.key));
      const uint32_t shard = v.shards.at(count);
      absl::StrAppend(&want, shard, "\t", sharded::ShardName(shard), "\t", absl::CEscape(v.key),
                      "\n");
    }
    std::ostringstream out, err;
    ASSERT_EQ(RunRoute(args, out, err), kExitOk) << err.str();
    EXPECT_EQ(out.str(), want);
  }
  std::ostringstream out, err;
  EXPECT_EQ(RunRoute({"key"}, out, err), kExitUsage);  // no --shards
  EXPECT_EQ(RunRoute({"--shards", "0", "key"}, out, err), kExitUsage);
  EXPECT_EQ(RunRoute({"--shards", "4", "--key-b64", "%%"}, out, err), kExitUsage);
}

std::string TempRoot(const std::string& name) {
  const std::string tmp = ::ironwal::testing::TestTmpDir();
  return absl::StrCat(tmp, "/", name);
}

TEST(VerifyShardedTest, FixturesVerifyAndDamageIsNamed) {
  for (const std::string& name : ShardedFixtureNames()) {
    ASSERT_OK_AND_ASSIGN(const ShardedFixture f, LoadShardedFixture(name));
    EXPECT_TRUE(IsShardedRoot(f.fixture.root));
    std::ostringstream out;
    EXPECT_OK(VerifyShardedFiles(f.fixture.root, out));
    EXPECT_THAT(out.str(), HasSubstr("checkpoint entries, OK"));
    std::ostringstream ls;
    EXPECT_OK(DescribeShardedLayout(f.fixture.root, ls));
    EXPECT_THAT(ls.str(), HasSubstr(absl::StrCat(f.listed.size(), " checkpoints, latest ")));
  }
  ASSERT_OK_AND_ASSIGN(const ShardedFixture f, LoadShardedFixture("sharded-basic"));
  Env* env = Env::Default();
  const std::string root = TempRoot("verify-damaged");
  ASSERT_OK(sharded::testing::CopyTree(env, f.fixture.root, env, root));
  ASSERT_OK_AND_ASSIGN(std::string log, ReadFileToString(env, JoinPath(root, "checkpoints.log")));
  ASSERT_OK(WriteFileAtomically(env, JoinPath(root, "checkpoints.log"), log.substr(0, 100)));
  std::ostringstream out;
  EXPECT_THAT(VerifyShardedFiles(root, out),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checkpoints.log@63")));
  std::ostringstream listed, err;
  EXPECT_EQ(RunCheckpoints({root}, listed, err), kExitFinding);
  EXPECT_THAT(err.str(), HasSubstr("torn tail of 37 bytes"));
}

}  // namespace
}  // namespace cli
}  // namespace ironwal
