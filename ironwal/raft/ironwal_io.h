// File: ironwal/raft/ironwal_io.h
//
// IronwalIo: a Canonical raft `struct raft_io` (libraft 0.15, raft.h) whose persistent
// state lives in an ironwal Wal (RaftStorage, raft_storage.h) while its transport, timers,
// clock and randomness are those of libraft's own libuv raft_io (raft_uv_init), which the
// caller creates and hands over: IronwalIo forwards init, start (tick and receive), send,
// time, random and async_work to it and never calls its storage methods.
//
//   raft_uv_tcp_init(&transport, &loop);
//   raft_uv_init(&uv_io, &loop, scratch_dir, &transport);   // scratch_dir: its own files
//   IRONWAL_ASSIGN_OR_RETURN(auto io, IronwalIo::Create(&loop, &uv_io, options));
//   raft_init(&raft, io->io(), &fsm, id, address);
//
// Storage calls:
//   load, bootstrap, recover, set_term,   synchronous on the loop thread, durable at return
//   set_vote
//   append                                asynchronous: queued to a writer thread, which
//                                         appends every queued batch (AppendBatchIf at the
//                                         entries' Raft index) and then syncs once for all
//                                         of them (group commit); the callbacks run on the
//                                         loop thread (uv_async) after the sync
//   truncate                              queued in order with the appends (suffix
//                                         truncation); returns at once, as libuv's does
//   snapshot_put, snapshot_get            queued in order; callbacks on the loop thread
// The loop never waits for an fdatasync of an append.
//
// Fail-stop: after the first storage error every queued and later storage call fails
// with RAFT_IOERR and `on_failure` runs once on the loop thread: the node must stop (the
// raft_node server exits), never diverge.
//
// Threading: every raft_io method is called on the loop thread (libraft's rule); the
// writer thread only touches the RaftStorage, under a mutex the loop thread takes for its
// synchronous calls. close() lets the writer finish what is queued, joins it, closes the
// libuv raft_io, and then calls back.
#ifndef IRONWAL_RAFT_IRONWAL_IO_H_
#define IRONWAL_RAFT_IRONWAL_IO_H_

// raft.h declares no C linkage of its own.
extern "C" {
#include <raft.h>
}
#include <uv.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "ironwal/raft/codec.h"
#include "ironwal/raft/raft_storage.h"

namespace ironwal {
namespace raft {

struct IronwalIoOptions {
  RaftStorageOptions storage;
  // Called once, on the loop thread, with the first storage error.
  std::function<void(const absl::Status&)> on_failure;
};

class IronwalIo {
 public:
  // `uv_io` must have been set up with raft_uv_init on `loop` and outlive this object;
  // IronwalIo takes over its `data` field.
  static absl::StatusOr<std::unique_ptr<IronwalIo>> Create(uv_loop_t* loop, struct raft_io* uv_io,
                                                           const IronwalIoOptions& options);
  // After close's callback (or if raft never used io()).
  ~IronwalIo();

  struct raft_io* io() {
    return &io_;
  }

  // Appends and syncs done by the writer thread so far (group commit: syncs <= batches).
  uint64_t appends_written() const;
  uint64_t syncs_done() const;

 private:
  struct Op;

  IronwalIo(uv_loop_t* loop, struct raft_io* uv_io, std::unique_ptr<RaftStorage> storage,
            std::function<void(const absl::Status&)> on_failure);
  static IronwalIo* Self(struct raft_io* io) { return static_cast<IronwalIo*>(io->impl); }

  // raft_io methods.
  static int Init(struct raft_io* io, raft_id id, const char* address);
  static void Close(struct raft_io* io, raft_io_close_cb cb);
  static int Load(struct raft_io* io, raft_term* term, raft_id* voted_for,
                  struct raft_snapshot** snapshot, raft_index* start_index,
                  struct raft_entry* entries[], size_t* n_entries);
  static int Start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv);
  static int Bootstrap(struct raft_io* io, const struct raft_configuration* conf);
  static int Recover(struct raft_io* io, const struct raft_configuration* conf);
  static int SetTerm(struct raft_io* io, raft_term term);
  static int SetVote(struct raft_io* io, raft_id server_id);
  static int Send(struct raft_io* io, struct raft_io_send* req, const struct raft_message* message,
                  raft_io_send_cb cb);
  static int Append(struct raft_io* io, struct raft_io_append* req,
                    const struct raft_entry entries[], unsigned n, raft_io_append_cb cb);
  static int Truncate(struct raft_io* io, raft_index index);
  static int SnapshotPut(struct raft_io* io, unsigned trailing, struct raft_io_snapshot_put* req,
                         const struct raft_snapshot* snapshot, raft_io_snapshot_put_cb cb);
  static int SnapshotGet(struct raft_io* io, struct raft_io_snapshot_get* req,
                         raft_io_snapshot_get_cb cb);
  static raft_time Time(struct raft_io* io);
  static int Random(struct raft_io* io, int min, int max);
  static int AsyncWork(struct raft_io* io, struct raft_io_async_work* req,
                       raft_io_async_work_cb cb);
  // Trampolines from the libuv raft_io back to raft, with io_.
  static void TickTrampoline(struct raft_io* uv_io);
  static void RecvTrampoline(struct raft_io* uv_io, struct raft_message* message);
  static void AsyncCb(uv_async_t* handle);
  static void UvClosedCb(struct raft_io* uv_io);
  static void AsyncClosedCb(uv_handle_t* handle);

  // A synchronous storage call on the loop thread: its status as a raft error code.
  int Sync(const absl::Status& status);
  // bootstrap and recover: `conf` encoded as a configuration entry and handed to `write`
  // (which returns its index); `refused` is the code when the storage refuses it without
  // failing (nothing written).
  static int WriteConfiguration(
      struct raft_io* io, const struct raft_configuration* conf, int refused,
      const std::function<absl::StatusOr<uint64_t>(RaftStorage*, const LogEntry&)>& write);
  void Enqueue(std::unique_ptr<Op> op);
  void WriterMain();
  // Runs a batch of queued ops; returns their completions.
  void RunBatch(std::vector<std::unique_ptr<Op>>* batch);
  void Post(std::function<void()> completion);
  void ReportFailure(const absl::Status& status);

  struct raft_io io_;
  uv_loop_t* const loop_;
  struct raft_io* const uv_io_;
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;
  raft_io_close_cb close_cb_ = nullptr;
  uv_async_t async_;
  bool async_open_ = false;
  bool uv_io_closed_ = false;
  bool failure_reported_ = false;
  std::function<void(const absl::Status&)> on_failure_;
  uint64_t next_index_ = 1;  // loop thread: the index the next append gets

  std::mutex storage_mu_;  // held by whoever calls storage_
  std::unique_ptr<RaftStorage> storage_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::deque<std::unique_ptr<Op>> queue_;    // guarded by mu_
  std::vector<std::function<void()>> done_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  uint64_t appends_written_ = 0;             // guarded by mu_
  uint64_t syncs_done_ = 0;                  // guarded by mu_
  std::thread writer_;
};

// raft's entries and configurations as RaftStorage's records, and back.
LogEntry ToLogEntry(const struct raft_entry& entry);
SnapshotRecord ToSnapshotRecord(const struct raft_snapshot& snapshot);
// A raft_malloc'ed snapshot (one buffer) that raft takes over; nullptr when out of memory.
struct raft_snapshot* NewRaftSnapshot(const SnapshotRecord& record);

}  // namespace raft
}  // namespace ironwal

#endif  // IRONWAL_RAFT_IRONWAL_IO_H_
