// The examples in the public headers' comments, compiled as written (only with the umbrella
// header and MemEnv) and run. Each block between "Example from" and "End of example" is the
// header's text; the names it leaves to the reader (payload, Consume, WaitForMore, ...) are
// declared around it. If a header's example changes, change it here too.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

#include "ironwal/env/mem_env.h"
#include "ironwal/ironwal.h"

namespace ironwal {
namespace {

// ironwal/ironwal.h
absl::StatusOr<uint64_t> IronwalHeaderExample(Env* env_for_test, absl::string_view payload) {
  // Example from ironwal/ironwal.h (with the Env a test needs set).
  ironwal::WalOptions options;
  options.root = "/var/lib/app/wal";
  options.env = env_for_test;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<ironwal::Wal> wal, ironwal::Wal::Open(options));
  return wal->Append("orders", payload);
  // End of example.
}

// ironwal/wal/wal.h
absl::Status WalHeaderExample(Env* env, std::vector<std::string>* consumed) {
  const std::string payload = "p";
  const absl::string_view a = "a", b = "b", c = "c";
  // Example from ironwal/wal/wal.h (with the Env a test needs set).
  WalOptions options;
  options.root = "/var/lib/app/wal";
  options.env = env;
  IRONWAL_ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal, Wal::Open(options));
  IRONWAL_ASSIGN_OR_RETURN(uint64_t id, wal->Append("orders", payload));
  IRONWAL_ASSIGN_OR_RETURN(IdRange ids, wal->AppendBatch("orders", {a, b, c}));
  IRONWAL_ASSIGN_OR_RETURN(std::string entry, wal->Get("orders", id));
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", 0));
  for (; it->Valid(); it->Next()) consumed->emplace_back(it->value());
  IRONWAL_ASSIGN_OR_RETURN(TruncateResult t, wal->Truncate("orders", 1000));
  // End of example.
  consumed->push_back(entry);
  if (ids.size() != 3 || t.segments_removed != 0) return absl::InternalError("unexpected");
  return absl::OkStatus();
}

// ironwal/wal/iterator.h
absl::Status IteratorHeaderExamples(Wal* wal, std::vector<uint64_t>* consumed, int* waits) {
  const auto Consume = [&](uint64_t id, absl::string_view value) {
    if (value != std::to_string(id)) ADD_FAILURE() << id << " holds " << value;
    consumed->push_back(id);
  };
  {
    // Example from ironwal/wal/iterator.h (first).
    IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", /*start_id=*/0));
    for (; it->Valid(); it->Next()) Consume(it->id(), it->value());
    IRONWAL_RETURN_IF_ERROR(it->status());  // OK at the end; DataLoss if a frame failed
    // End of example.
  }
  // The tailing loop: the first wait appends an entry, the second cuts the log below the
  // iterator's position, so that its Seek fails (OutOfRange) and the loop returns.
  const auto WaitForMore = [&] {
    if (++*waits == 1) {
      wal->Append("orders", std::to_string(consumed->size() / 2)).IgnoreError();
    } else {
      wal->TruncateSuffix("orders", 1).IgnoreError();
    }
  };
  const uint64_t start = 0;
  IRONWAL_ASSIGN_OR_RETURN(auto it, wal->NewIterator("orders", start));
  // Example from ironwal/wal/iterator.h (tailing).
  uint64_t next = start;
  for (;;) {
    it->Seek(next);
    for (; it->Valid(); it->Next(), ++next) Consume(it->id(), it->value());
    IRONWAL_RETURN_IF_ERROR(it->status());
    WaitForMore();
  }
  // End of example.
}

// ironwal/wal/txn_writer.h
absl::StatusOr<IdRange> TxnWriterHeaderExample(Wal* wal) {
  const std::string debit = "-10", credit = "+10";
  // Example from ironwal/wal/txn_writer.h.
  TxnWriter txn = wal->NewTransaction("ledger");
  IRONWAL_RETURN_IF_ERROR(txn.Add(debit));
  IRONWAL_RETURN_IF_ERROR(txn.Add(credit));
  IRONWAL_ASSIGN_OR_RETURN(IdRange ids, txn.Commit());
  // End of example.
  return ids;
}

// ironwal/status_macros.h ("..." replaced by using the three results).
absl::Status Frob(Env* env) {
  // Example from ironwal/status_macros.h.
  IRONWAL_RETURN_IF_ERROR(env->CreateDir("/a"));
  IRONWAL_ASSIGN_OR_RETURN(uint64_t size, env->GetFileSize("/a/b"));
  IRONWAL_ASSIGN_OR_RETURN(auto file, env->NewWritableFile("/a/c"));
  // End of example.
  return file->Append(std::to_string(size));
}

std::unique_ptr<Wal> OpenOn(Env* env) {
  WalOptions options;
  options.env = env;
  options.root = "/w";
  return Wal::Open(options).value();
}

TEST(HeaderExamplesTest, Umbrella) {
  MemEnv env;
  EXPECT_EQ(IronwalHeaderExample(&env, "x").value(), 0u);
  EXPECT_EQ(IronwalHeaderExample(&env, "y").value(), 1u);
}

TEST(HeaderExamplesTest, Wal) {
  MemEnv env;
  std::vector<std::string> consumed;
  ASSERT_TRUE(WalHeaderExample(&env, &consumed).ok());
  EXPECT_EQ(consumed, (std::vector<std::string>{"p", "a", "b", "c", "p"}));
}

TEST(HeaderExamplesTest, IteratorAndTailing) {
  MemEnv env;
  std::unique_ptr<Wal> wal = OpenOn(&env);
  ASSERT_EQ(wal->Append("orders", "0").value(), 0u);
  ASSERT_EQ(wal->Append("orders", "1").value(), 1u);
  std::vector<uint64_t> consumed;
  int waits = 0;
  const absl::Status tailed = IteratorHeaderExamples(wal.get(), &consumed, &waits);
  EXPECT_EQ(tailed.code(), absl::StatusCode::kOutOfRange) << tailed;
  EXPECT_EQ(waits, 2);
  // The plain loop read 0 and 1; the tailing loop 0 and 1, then 2 once it was appended.
  EXPECT_EQ(consumed, (std::vector<uint64_t>{0, 1, 0, 1, 2}));
}

TEST(HeaderExamplesTest, TxnWriter) {
  MemEnv env;
  std::unique_ptr<Wal> wal = OpenOn(&env);
  EXPECT_EQ(TxnWriterHeaderExample(wal.get()).value(), (IdRange{0, 2}));
  EXPECT_EQ(wal->Get("ledger", 1).value(), "+10");
}

TEST(HeaderExamplesTest, StatusMacros) {
  MemEnv env;
  // CreateDir succeeds, GetFileSize of the missing /a/b returns early: /a/c is never made.
  EXPECT_EQ(Frob(&env).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(env.IsDirectory("/a").value());
  EXPECT_TRUE(absl::IsNotFound(env.GetFileSize("/a/c").status()));
  // A second run stops at the first macro: /a exists.
  EXPECT_EQ(Frob(&env).code(), absl::StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace ironwal
