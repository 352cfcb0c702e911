#include "ironwal/format/names.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

#include "ironwal/testing/status_matchers.h"
#include "ironwal/util/coding.h"
#include "ironwal/util/crc32.h"

namespace ironwal {
namespace internal {
namespace {

using ::ironwal::testing::IsOkAndHolds;
using ::ironwal::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

TEST(SegmentFileNameTest, IsTwentyDigitsAndParsesBack) {
  EXPECT_EQ(SegmentFileName(0), "00000000000000000000.wal");
  EXPECT_EQ(SegmentFileName(12345), "00000000000000012345.wal");
  EXPECT_EQ(SegmentFileName(UINT64_MAX), "18446744073709551615.wal");
  for (uint64_t id : {0ull, 1ull, 12345ull, 18446744073709551615ull}) {
    EXPECT_THAT(ParseSegmentFileName(SegmentFileName(id)), Optional(id));
  }
}

TEST(SegmentFileNameTest, RejectsAnythingElse) {
  for (const char* name :
       {"5.wal", "0000000000000000000a.wal", "00000000000000000000.wa", "00000000000000000000.walx",
        "99999999999999999999.wal", "segments.idx", "", "00000000000000000000.tmp"}) {
    EXPECT_EQ(ParseSegmentFileName(name), std::nullopt) << name;
  }
}

TEST(StreamDirNameTest, KeepsSafeKeysAndReplacesEverythingElse) {
  EXPECT_THAT(StreamDirName("orders"), IsOkAndHolds("orders"));
  EXPECT_THAT(StreamDirName("a-b_c.D9"), IsOkAndHolds("a-b_c.D9"));
  EXPECT_THAT(StreamDirName("user/42"), IsOkAndHolds("user_42"));
  EXPECT_THAT(StreamDirName("../hack"), IsOkAndHolds(".._hack"));  // as ironwal 0.6
  EXPECT_THAT(StreamDirName("a b:c\\d"), IsOkAndHolds("a_b_c_d"));
  EXPECT_THAT(StreamDirName(std::string("a\0b", 3)), IsOkAndHolds("a_b"));
}

TEST(StreamDirNameTest, OneUnderscorePerCharacterNotPerByte) {
  EXPECT_THAT(StreamDirName("caf\xc3\xa9"), IsOkAndHolds("caf_"));  // é: 2 bytes
  EXPECT_THAT(StreamDirName("\xe2\x82\xac"
                            "1"),
              IsOkAndHolds("_1"));                                    // €: 3 bytes
  EXPECT_THAT(StreamDirName("\xf0\x9f\x98\x80"), IsOkAndHolds("_"));  // emoji: 4 bytes
  EXPECT_THAT(StreamDirName("x\xff\xfe"), IsOkAndHolds("x__"));       // invalid UTF-8
}

TEST(StreamDirNameTest, RefusesKeysWithoutAUsableDirectory) {
  for (const std::string& key :
       {std::string(""), std::string("   "), std::string("\t\n"), std::string("\xe3\x80\x80"),
        std::string("."), std::string(".."), std::string("LOCK"), std::string(256, 'k'),
        std::string(5000, 'k')}) {
    EXPECT_THAT(StreamDirName(key), StatusIs(absl::StatusCode::kInvalidArgument))
        << "key of " << key.size() << " bytes";
  }
  EXPECT_THAT(StreamDirName(std::string(255, 'k')), IsOkAndHolds(std::string(255, 'k')));
  EXPECT_THAT(StreamDirName(" a "), IsOkAndHolds("_a_"));
  EXPECT_THAT(StreamDirName("lock"), IsOkAndHolds("lock"));
}

TEST(HeadStateTest, EncodesVersionLengthAndName) {
  const std::string head = EncodeHeadState(40);
  EXPECT_EQ(head.size(), 26u);
  EXPECT_EQ(head[0], 1);
  EXPECT_EQ(head[1], 24);
  EXPECT_EQ(head.substr(2), "00000000000000000040.wal");
  EXPECT_THAT(DecodeHeadState(head), IsOkAndHolds(40u));
}

TEST(HeadStateTest, MalformedFilesAreDataLoss) {
  std::string head = EncodeHeadState(7);
  EXPECT_THAT(DecodeHeadState(""), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeHeadState(head.substr(0, 10)), StatusIs(absl::StatusCode::kDataLoss));
  std::string version = head;
  version[0] = 2;
  EXPECT_THAT(DecodeHeadState(version),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("version")));
  std::string zero = head;
  zero[1] = 0;
  EXPECT_THAT(DecodeHeadState(zero), StatusIs(absl::StatusCode::kDataLoss));
  std::string name = head;
  name[5] = 'x';
  EXPECT_THAT(DecodeHeadState(name),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a segment")));
}

TEST(SegmentIndexTest, RoundTripsU64LittleEndian) {
  const std::string bytes = EncodeSegmentIndex({0, 29, 0x0102030405060708ull});
  EXPECT_EQ(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(8, 8), std::string("\x1d\0\0\0\0\0\0\0", 8));
  EXPECT_EQ(bytes.substr(16, 8), std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8));
  EXPECT_THAT(DecodeSegmentIndex(bytes), IsOkAndHolds(ElementsAre(0u, 29u, 0x0102030405060708ull)));
  EXPECT_THAT(DecodeSegmentIndex(""), IsOkAndHolds(ElementsAre()));
}

TEST(SegmentIndexTest, DuplicatesAreMergedAndDecreasesRefused) {
  EXPECT_THAT(DecodeSegmentIndex(EncodeSegmentIndex({0, 5, 5, 9})),
              IsOkAndHolds(ElementsAre(0u, 5u, 9u)));
  EXPECT_THAT(DecodeSegmentIndex(EncodeSegmentIndex({0, 100, 50})),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("decreases")));
  EXPECT_THAT(DecodeSegmentIndex(std::string(3, '\0')),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("multiple of 8")));
}

TEST(StreamKeyTest, RoundTripsAnyKey) {
  for (const std::string& key : {std::string("orders"), std::string("user/42"),
                                 std::string("a\0b\xff", 4), std::string(4096, 'z')}) {
    EXPECT_THAT(DecodeStreamKey(EncodeStreamKey(key)), IsOkAndHolds(key));
  }
}

TEST(StreamKeyTest, EveryCorruptionIsDetected) {
  const std::string good = EncodeStreamKey("user/42");
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x04;
    EXPECT_THAT(DecodeStreamKey(bad), StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
  }
  EXPECT_THAT(DecodeStreamKey(good.substr(0, good.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(DecodeStreamKey(""), StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace internal
}  // namespace ironwal

namespace ironwal {
namespace internal {
namespace {

TEST(ListStreamFilesTest, SortsADirectoryByKind) {
  const StreamListing listing =
      ListStreamFiles({"00000000000000000000.wal", "00000000000000000029.wal", "segments.idx",
                       "head.state", "stream.key", "durable.pos", "segments.idx.tmp",
                       "00000000000000000029.wal.corrupt-64", "5.wal", "notes.txt"});
  ASSERT_EQ(listing.segments.size(), 2u);
  EXPECT_EQ(listing.segments.at(29), "00000000000000000029.wal");
  EXPECT_TRUE(listing.has_index && listing.has_head && listing.has_key && listing.has_durable_pos);
  EXPECT_THAT(listing.temp_files, ::testing::ElementsAre("segments.idx.tmp"));
  EXPECT_THAT(listing.quarantine_files,
              ::testing::ElementsAre("00000000000000000029.wal.corrupt-64"));
  EXPECT_THAT(listing.other_files, ::testing::ElementsAre("5.wal", "notes.txt"));
  EXPECT_EQ(ClassifyStreamFile("00000000000000000007.wal").segment_start_id, 7u);
  EXPECT_FALSE(ListStreamFiles({}).has_index);
  EXPECT_FALSE(ListStreamFiles({"notes.txt"}).is_stream);
  EXPECT_TRUE(ListStreamFiles({"head.state"}).is_stream);
}

// Entries with ironwal's names that are not regular files are set apart, and nowhere else.
TEST(ListStreamFilesTest, EntriesThatAreNotRegularFilesAreSetApart) {
  const StreamListing listing = ListStreamEntries({{"00000000000000000000.wal", false},
                                                   {"segments.idx", true},
                                                   {"stream.key", false},
                                                   {"a-directory", false}});
  EXPECT_TRUE(listing.segments.empty());
  EXPECT_FALSE(listing.has_key);
  EXPECT_TRUE(listing.is_stream);
  EXPECT_THAT(listing.not_files, ::testing::ElementsAre("00000000000000000000.wal", "stream.key"));
  EXPECT_THAT(listing.other_files, ::testing::ElementsAre("a-directory"));
}

TEST(TruncateIntentTest, RoundTripsAndRejectsDamage) {
  const std::string intent = EncodeTruncateIntent(992);
  EXPECT_EQ(intent.size(), 16u);
  EXPECT_THAT(DecodeTruncateIntent(intent), ::ironwal::testing::IsOkAndHolds(992u));
  std::string flipped = intent;
  flipped[5] ^= 1;
  EXPECT_FALSE(DecodeTruncateIntent(flipped).ok());
  EXPECT_FALSE(DecodeTruncateIntent(intent.substr(1)).ok());
  EXPECT_TRUE(ListStreamFiles({"truncate.intent"}).has_truncate_intent);
}

TEST(NamesTest, LostIdsRoundTripAndRefuseDamage) {
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = {{3, 7}, {9, 12}};
  const std::string bytes = EncodeLostIds(ranges);
  EXPECT_EQ(bytes.size(), 12u + 16u * 2);
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> decoded = DecodeLostIds(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, ranges);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] ^= 1;
    EXPECT_FALSE(DecodeLostIds(flipped).ok()) << "byte " << i;
  }
  EXPECT_FALSE(DecodeLostIds(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeLostIds(EncodeLostIds({{5, 5}})).ok());
  EXPECT_FALSE(DecodeLostIds(EncodeLostIds({{5, 8}, {7, 9}})).ok());
}

// A frame index file (format.h): the layout byte by byte, a round trip, every flipped byte
// refused, and frames that do not add up to the recorded end ID and size refused.
TEST(NamesTest, FrameIndexRoundTripsAndRefusesWhatDoesNotAddUp) {
  FrameIndexFile file;
  file.start_id = 100;
  file.end_id = 104;
  file.frames = {{1, 10}, {3, 20}};
  file.segment_size = 32 + 10 + 32 + 20;
  const std::string bytes = EncodeFrameIndex(file);
  ASSERT_EQ(bytes.size(), 32u + 8u * 2 + 4u);
  EXPECT_EQ(bytes.substr(0, 4), "IWFR");
  EXPECT_EQ(DecodeFixed64(bytes.data() + 4), 100u);
  EXPECT_EQ(DecodeFixed64(bytes.data() + 12), 104u);
  EXPECT_EQ(DecodeFixed64(bytes.data() + 20), 94u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 28), 2u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 32), 1u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 36), 10u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 40), 3u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 44), 20u);
  EXPECT_EQ(DecodeFixed32(bytes.data() + 48), Crc32(bytes.substr(0, 48)));
  absl::StatusOr<FrameIndexFile> decoded = DecodeFrameIndex(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->start_id, 100u);
  EXPECT_EQ(decoded->end_id, 104u);
  EXPECT_EQ(decoded->segment_size, 94u);
  EXPECT_EQ(decoded->frames, file.frames);
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] ^= 1;
    EXPECT_THAT(DecodeFrameIndex(flipped), StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
  }
  EXPECT_THAT(DecodeFrameIndex(bytes.substr(0, bytes.size() - 1)),
              StatusIs(absl::StatusCode::kDataLoss));
  const auto refused = [](FrameIndexFile f, const char* why) {
    EXPECT_THAT(DecodeFrameIndex(EncodeFrameIndex(f)),
                StatusIs(absl::StatusCode::kDataLoss, HasSubstr(why)));
  };
  FrameIndexFile bad = file;
  bad.end_id = 105;  // the frames hold 4 IDs
  refused(bad, "end at ID 104");
  bad = file;
  bad.segment_size = 95;
  refused(bad, "byte 94");
  bad = file;
  bad.frames[0].first = 0;  // a frame without entries
  refused(bad, "frame 0 of 0 entries");
  bad = file;
  bad.frames[1].first = 9;  // past the end ID
  refused(bad, "past the end ID");
  bad = file;
  bad.frames.clear();
  refused(bad, "for 0 frames");
  EXPECT_EQ(FrameIndexFileName(12345), "00000000000000012345.frames");
  const StreamFile classified = ClassifyStreamFile("00000000000000012345.frames");
  EXPECT_EQ(classified.kind, StreamFileKind::kFrameIndex);
  EXPECT_EQ(classified.segment_start_id, 12345u);
  EXPECT_EQ(ClassifyStreamFile("12345.frames").kind, StreamFileKind::kOther);
  EXPECT_EQ(ClassifyStreamFile("00000000000000012345.frames.tmp").kind, StreamFileKind::kTemp);
  // Not a stream's directory by itself (a leftover), and listed by segment.
  const StreamListing listing = ListStreamFiles({"00000000000000000007.frames"});
  EXPECT_FALSE(listing.is_stream);
  EXPECT_EQ(listing.frame_indexes.at(7), "00000000000000000007.frames");
}

// log.intent has its own magic; a file written with the one it first shared with lost.ids
// ("IWLI") still decodes, and neither file decodes as the other.
TEST(NamesTest, LogIntentHasItsOwnMagicAndAcceptsTheOldOne) {
  LogIntent intent;
  intent.kind = LogIntent::Kind::kTruncateSuffix;
  intent.next_id = 9;
  intent.first_id = 2;
  intent.active_size = 120;
  intent.staged = true;
  intent.segments = {0, 5};
  const std::string bytes = EncodeLogIntent(intent);
  EXPECT_EQ(bytes.substr(0, 4), "IWLO");
  ASSERT_OK_AND_ASSIGN(const LogIntent decoded, DecodeLogIntent(bytes));
  EXPECT_EQ(decoded.segments, intent.segments);
  EXPECT_EQ(decoded.next_id, 9u);
  EXPECT_EQ(decoded.active_size, 120u);
  std::string old = bytes.substr(0, bytes.size() - 4).replace(0, 4, "IWLI");
  PutFixed32(&old, Crc32(old));
  ASSERT_OK_AND_ASSIGN(const LogIntent from_old, DecodeLogIntent(old));
  EXPECT_EQ(from_old.segments, intent.segments);
  EXPECT_EQ(from_old.first_id, 2u);
  std::string other = old;
  other.replace(0, 4, "IWLX");
  EXPECT_THAT(DecodeLogIntent(other), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(DecodeLostIds(bytes).ok());
  EXPECT_FALSE(DecodeLogIntent(EncodeLostIds({{3, 7}, {9, 12}, {20, 30}})).ok());
}

}  // namespace
}  // namespace internal
}  // namespace ironwal
