#include "ironwal/raft/ironwal_io.h"

#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "ironwal/status_macros.h"

namespace ironwal {
namespace raft {

struct IronwalIo::Op {
  enum class Kind { kAppend, kTruncate, kSnapshotPut, kSnapshotGet };
  Kind kind = Kind::kAppend;
  uint64_t index = 0;  // kAppend: the first entry's index; kTruncate: the cut
  std::vector<LogEntry> entries;
  SnapshotRecord snapshot;
  unsigned trailing = 0;
  struct raft_io_append* append_req = nullptr;
  raft_io_append_cb append_cb = nullptr;
  struct raft_io_snapshot_put* put_req = nullptr;
  raft_io_snapshot_put_cb put_cb = nullptr;
  struct raft_io_snapshot_get* get_req = nullptr;
  raft_io_snapshot_get_cb get_cb = nullptr;
};

namespace {

int RaftCode(const absl::Status& status) {
  if (status.ok()) return 0;
  return absl::IsResourceExhausted(status) ? RAFT_NOSPACE : RAFT_IOERR;
}

void SetErrmsg(char* errmsg, const absl::Status& status) {
  std::snprintf(errmsg, RAFT_ERRMSG_BUF_SIZE, "%s", std::string(status.message()).c_str());
}

}  // namespace

LogEntry ToLogEntry(const struct raft_entry& entry) {
  LogEntry out;
  out.term = entry.term;
  out.type = static_cast<uint8_t>(entry.type);
  out.payload.assign(static_cast<const char*>(entry.buf.base), entry.buf.len);
  return out;
}

SnapshotRecord ToSnapshotRecord(const struct raft_snapshot& snapshot) {
  SnapshotRecord out;
  out.index = snapshot.index;
  out.term = snapshot.term;
  out.configuration_index = snapshot.configuration_index;
  for (unsigned i = 0; i < snapshot.configuration.n; ++i) {
    const struct raft_server& s = snapshot.configuration.servers[i];
    out.servers.push_back({s.id, static_cast<uint32_t>(s.role), s.address});
  }
  for (unsigned i = 0; i < snapshot.n_bufs; ++i) {
    out.data.append(static_cast<const char*>(snapshot.bufs[i].base), snapshot.bufs[i].len);
  }
  return out;
}

struct raft_snapshot* NewRaftSnapshot(const SnapshotRecord& record) {
  auto* s = static_cast<struct raft_snapshot*>(raft_calloc(1, sizeof(struct raft_snapshot)));
  if (s == nullptr) return nullptr;
  s->index = record.index;
  s->term = record.term;
  s->configuration_index = record.configuration_index;
  raft_configuration_init(&s->configuration);
  for (const ServerRecord& server : record.servers) {
    (void)raft_configuration_add(&s->configuration, server.id, server.address.c_str(),
                                 static_cast<int>(server.role));
  }
  s->bufs = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  s->n_bufs = 1;
  s->bufs[0].len = record.data.size();
  s->bufs[0].base = raft_malloc(record.data.size() + 1);
  std::memcpy(s->bufs[0].base, record.data.data(), record.data.size());
  return s;
}

absl::StatusOr<std::unique_ptr<IronwalIo>> IronwalIo::Create(uv_loop_t* loop, struct raft_io* uv_io,
                                                             const IronwalIoOptions& options) {
  absl::StatusOr<std::unique_ptr<RaftStorage>> storage = RaftStorage::Open(options.storage);
  if (!storage.ok()) return storage.status();
  std::unique_ptr<IronwalIo> io(
      new IronwalIo(loop, uv_io, *std::move(storage), options.on_failure));
  if (int rv = uv_async_init(loop, &io->async_, &IronwalIo::AsyncCb); rv != 0) {
    return absl::InternalError(
        absl::StrCat("uv_async_init for ", options.storage.dir, ": ", uv_strerror(rv)));
  }
  io->async_.data = io.get();
  io->async_open_ = true;
  io->writer_ = std::thread([self = io.get()] { self->WriterMain(); });
  return io;
}

IronwalIo::IronwalIo(uv_loop_t* loop, struct raft_io* uv_io, std::unique_ptr<RaftStorage> storage,
                     std::function<void(const absl::Status&)> on_failure)
    : loop_(loop), uv_io_(uv_io), on_failure_(std::move(on_failure)), storage_(std::move(storage)) {
  std::memset(&io_, 0, sizeof(io_));
  io_.version = 2;
  io_.impl = this;
  io_.init = &IronwalIo::Init;
  io_.close = &IronwalIo::Close;
  io_.load = &IronwalIo::Load;
  io_.start = &IronwalIo::Start;
  io_.bootstrap = &IronwalIo::Bootstrap;
  io_.recover = &IronwalIo::Recover;
  io_.set_term = &IronwalIo::SetTerm;
  io_.set_vote = &IronwalIo::SetVote;
  io_.send = &IronwalIo::Send;
  io_.append = &IronwalIo::Append;
  io_.truncate = &IronwalIo::Truncate;
  io_.snapshot_put = &IronwalIo::SnapshotPut;
  io_.snapshot_get = &IronwalIo::SnapshotGet;
  io_.time = &IronwalIo::Time;
  io_.random = &IronwalIo::Random;
  io_.async_work = &IronwalIo::AsyncWork;
  uv_io_->data = this;
}

IronwalIo::~IronwalIo() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (async_open_) {
    // Never started (no close): the handle must still leave the loop before it is freed.
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
    uv_run(loop_, UV_RUN_NOWAIT);
  }
}

uint64_t IronwalIo::appends_written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appends_written_;
}

uint64_t IronwalIo::syncs_done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_done_;
}

// --- Forwarded to libuv's raft_io -----------------------------------------------------

int IronwalIo::Init(struct raft_io* io, raft_id id, const char* address) {
  IronwalIo* self = Self(io);
  int rv = self->uv_io_->init(self->uv_io_, id, address);
  if (rv != 0) std::memcpy(io->errmsg, self->uv_io_->errmsg, RAFT_ERRMSG_BUF_SIZE);
  return rv;
}

int IronwalIo::Start(struct raft_io* io, unsigned msecs, raft_io_tick_cb tick,
                     raft_io_recv_cb recv) {
  IronwalIo* self = Self(io);
  self->tick_cb_ = tick;
  self->recv_cb_ = recv;
  int rv = self->uv_io_->start(self->uv_io_, msecs, &IronwalIo::TickTrampoline,
                               &IronwalIo::RecvTrampoline);
  if (rv != 0) std::memcpy(io->errmsg, self->uv_io_->errmsg, RAFT_ERRMSG_BUF_SIZE);
  return rv;
}

void IronwalIo::TickTrampoline(struct raft_io* uv_io) {
  IronwalIo* self = static_cast<IronwalIo*>(uv_io->data);
  if (self->tick_cb_ != nullptr) self->tick_cb_(&self->io_);
}

void IronwalIo::RecvTrampoline(struct raft_io* uv_io, struct raft_message* message) {
  IronwalIo* self = static_cast<IronwalIo*>(uv_io->data);
  if (self->recv_cb_ != nullptr) self->recv_cb_(&self->io_, message);
}

int IronwalIo::Send(struct raft_io* io, struct raft_io_send* req,
                    const struct raft_message* message, raft_io_send_cb cb) {
  IronwalIo* self = Self(io);
  return self->uv_io_->send(self->uv_io_, req, message, cb);
}

raft_time IronwalIo::Time(struct raft_io* io) {
  IronwalIo* self = Self(io);
  return self->uv_io_->time(self->uv_io_);
}

int IronwalIo::Random(struct raft_io* io, int min, int max) {
  IronwalIo* self = Self(io);
  return self->uv_io_->random(self->uv_io_, min, max);
}

int IronwalIo::AsyncWork(struct raft_io* io, struct raft_io_async_work* req,
                         raft_io_async_work_cb cb) {
  IronwalIo* self = Self(io);
  if (self->uv_io_->version < 2 || self->uv_io_->async_work == nullptr) return RAFT_INVALID;
  return self->uv_io_->async_work(self->uv_io_, req, cb);
}

// --- Close ------------------------------------------------------------------------------

void IronwalIo::Close(struct raft_io* io, raft_io_close_cb cb) {
  IronwalIo* self = Self(io);
  self->close_cb_ = cb;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->stopping_ = true;
  }
  self->work_cv_.notify_all();
  // The writer finishes what is queued (bounded) and exits; its callbacks run below, from
  // the loop, before close's own callback.
  self->writer_.join();
  self->uv_io_->close(self->uv_io_, &IronwalIo::UvClosedCb);
}

void IronwalIo::UvClosedCb(struct raft_io* uv_io) {
  IronwalIo* self = static_cast<IronwalIo*>(uv_io->data);
  self->uv_io_closed_ = true;
  AsyncCb(&self->async_);  // the writer's last completions
  self->async_open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&self->async_), &IronwalIo::AsyncClosedCb);
}

void IronwalIo::AsyncClosedCb(uv_handle_t* handle) {
  IronwalIo* self = static_cast<IronwalIo*>(handle->data);
  if (self->close_cb_ != nullptr) self->close_cb_(&self->io_);
}

// --- Synchronous storage calls (loop thread) --------------------------------------------

int IronwalIo::Sync(const absl::Status& status) {
  if (status.ok()) return 0;
  SetErrmsg(io_.errmsg, status);
  ReportFailure(status);
  return RaftCode(status);
}

int IronwalIo::Load(struct raft_io* io, raft_term* term, raft_id* voted_for,
                    struct raft_snapshot** snapshot, raft_index* start_index,
                    struct raft_entry* entries[], size_t* n_entries) {
  IronwalIo* self = Self(io);
  absl::StatusOr<RaftState> state;
  {
    std::lock_guard<std::mutex> lock(self->storage_mu_);
    state = self->storage_->Load();
  }
  if (!state.ok()) return self->Sync(state.status());
  *term = state->term;
  *voted_for = state->vote;
  *snapshot = state->snapshot ? NewRaftSnapshot(*state->snapshot) : nullptr;
  *start_index = state->start_index;
  *n_entries = state->entries.size();
  *entries = nullptr;
  if (!state->entries.empty()) {
    *entries = static_cast<struct raft_entry*>(
        raft_calloc(state->entries.size(), sizeof(struct raft_entry)));
    for (size_t i = 0; i < state->entries.size(); ++i) {
      const LogEntry& e = state->entries[i];
      struct raft_entry& out = (*entries)[i];
      out.term = e.term;
      out.type = e.type;
      out.buf.len = e.payload.size();
      out.buf.base = raft_malloc(e.payload.size() + 1);
      std::memcpy(out.buf.base, e.payload.data(), e.payload.size());
      out.batch = nullptr;
    }
  }
  self->next_index_ = state->start_index + state->entries.size();
  return 0;
}

int IronwalIo::WriteConfiguration(
    struct raft_io* io, const struct raft_configuration* conf, int refused,
    const std::function<absl::StatusOr<uint64_t>(RaftStorage*, const LogEntry&)>& write) {
  IronwalIo* self = Self(io);
  struct raft_buffer buf;
  if (int rv = raft_configuration_encode(conf, &buf); rv != 0) return rv;
  const LogEntry entry{1, RAFT_CHANGE, std::string(static_cast<const char*>(buf.base), buf.len)};
  raft_free(buf.base);
  absl::StatusOr<uint64_t> index;
  {
    std::lock_guard<std::mutex> lock(self->storage_mu_);
    index = write(self->storage_.get(), entry);
    if (!index.ok() && self->storage_->failure().ok()) {  // refused, nothing written
      SetErrmsg(io->errmsg, index.status());
      return refused;
    }
  }
  if (index.ok()) self->next_index_ = *index + 1;
  return self->Sync(index.status());
}

int IronwalIo::Bootstrap(struct raft_io* io, const struct raft_configuration* conf) {
  return WriteConfiguration(
      io, conf, RAFT_CANTBOOTSTRAP,
      [](RaftStorage* storage, const LogEntry& entry) -> absl::StatusOr<uint64_t> {
        IRONWAL_RETURN_IF_ERROR(storage->Bootstrap(entry));
        return 1;  // the configuration is entry 1
      });
}

int IronwalIo::Recover(struct raft_io* io, const struct raft_configuration* conf) {
  // The storage gives the entry the log's last term.
  return WriteConfiguration(
      io, conf, RAFT_INVALID,
      [](RaftStorage* storage, const LogEntry& entry) { return storage->Recover(entry); });
}

int IronwalIo::SetTerm(struct raft_io* io, raft_term term) {
  IronwalIo* self = Self(io);
  std::unique_lock<std::mutex> lock(self->storage_mu_);
  absl::Status status = self->storage_->SetTerm(term);
  lock.unlock();
  return self->Sync(status);
}

int IronwalIo::SetVote(struct raft_io* io, raft_id server_id) {
  IronwalIo* self = Self(io);
  std::unique_lock<std::mutex> lock(self->storage_mu_);
  absl::Status status = self->storage_->SetVote(server_id);
  lock.unlock();
  return self->Sync(status);
}

// --- Queued storage calls -----------------------------------------------------------------

int IronwalIo::Append(struct raft_io* io, struct raft_io_append* req,
                      const struct raft_entry entries[], unsigned n, raft_io_append_cb cb) {
  IronwalIo* self = Self(io);
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kAppend;
  op->index = self->next_index_;
  op->entries.reserve(n);
  for (unsigned i = 0; i < n; ++i) op->entries.push_back(ToLogEntry(entries[i]));
  op->append_req = req;
  op->append_cb = cb;
  self->next_index_ += n;
  self->Enqueue(std::move(op));
  return 0;
}

int IronwalIo::Truncate(struct raft_io* io, raft_index index) {
  IronwalIo* self = Self(io);
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kTruncate;
  op->index = index;
  self->next_index_ = index;
  self->Enqueue(std::move(op));
  return 0;
}

int IronwalIo::SnapshotPut(struct raft_io* io, unsigned trailing, struct raft_io_snapshot_put* req,
                           const struct raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  IronwalIo* self = Self(io);
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kSnapshotPut;
  op->snapshot = ToSnapshotRecord(*snapshot);
  op->trailing = trailing;
  op->put_req = req;
  op->put_cb = cb;
  if (trailing == 0) self->next_index_ = snapshot->index + 1;
  self->Enqueue(std::move(op));
  return 0;
}

int IronwalIo::SnapshotGet(struct raft_io* io, struct raft_io_snapshot_get* req,
                           raft_io_snapshot_get_cb cb) {
  IronwalIo* self = Self(io);
  auto op = std::make_unique<Op>();
  op->kind = Op::Kind::kSnapshotGet;
  op->get_req = req;
  op->get_cb = cb;
  self->Enqueue(std::move(op));
  return 0;
}

void IronwalIo::Enqueue(std::unique_ptr<Op> op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(op));
  }
  work_cv_.notify_one();
}

void IronwalIo::WriterMain() {
  for (;;) {
    std::vector<std::unique_ptr<Op>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(&batch);
  }
}

void IronwalIo::RunBatch(std::vector<std::unique_ptr<Op>>* batch) {
  std::vector<std::shared_ptr<Op>> appended;  // written, not yet synced
  absl::Status append_status;
  // One sync for every append written since the last: group commit.
  auto sync_appended = [&] {
    if (appended.empty()) return;
    absl::Status status = append_status;
    if (status.ok()) status = storage_->Sync();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++syncs_done_;
    }
    if (!status.ok()) Post([this, status] { ReportFailure(status); });
    for (auto& op : appended) {
      Post([op, status] { op->append_cb(op->append_req, RaftCode(status)); });
    }
    appended.clear();
    append_status = absl::OkStatus();
  };
  std::lock_guard<std::mutex> storage_lock(storage_mu_);
  for (std::unique_ptr<Op>& owned : *batch) {
    std::shared_ptr<Op> op(std::move(owned));
    if (op->kind == Op::Kind::kAppend) {
      if (append_status.ok()) append_status = storage_->Append(op->index, op->entries);
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++appends_written_;
      }
      appended.push_back(std::move(op));
      continue;
    }
    sync_appended();
    if (op->kind == Op::Kind::kTruncate) {
      absl::Status status = storage_->Truncate(op->index);
      if (!status.ok()) Post([this, status] { ReportFailure(status); });
    } else if (op->kind == Op::Kind::kSnapshotPut) {
      absl::Status status = storage_->PutSnapshot(op->snapshot, op->trailing);
      if (!status.ok()) Post([this, status] { ReportFailure(status); });
      Post([op, status] { op->put_cb(op->put_req, RaftCode(status)); });
    } else {
      absl::StatusOr<std::optional<SnapshotRecord>> got = storage_->GetSnapshot();
      absl::Status status = got.status();
      if (status.ok() && !got->has_value()) {
        status = absl::NotFoundError(absl::StrCat("snapshot_get: no snapshot stored"));
      }
      if (!status.ok() && !absl::IsNotFound(status)) {
        Post([this, status] { ReportFailure(status); });
      }
      std::shared_ptr<SnapshotRecord> record =
          status.ok() ? std::make_shared<SnapshotRecord>(**got) : nullptr;
      Post([op, status, record] {
        struct raft_snapshot* s = record ? NewRaftSnapshot(*record) : nullptr;
        op->get_cb(op->get_req, s, status.ok() ? (s ? 0 : RAFT_NOMEM) : RAFT_IOERR);
      });
    }
  }
  sync_appended();
}

void IronwalIo::Post(std::function<void()> completion) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back(std::move(completion));
  }
  uv_async_send(&async_);
}

void IronwalIo::AsyncCb(uv_async_t* handle) {
  IronwalIo* self = static_cast<IronwalIo*>(handle->data);
  std::vector<std::function<void()>> done;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    done.swap(self->done_);
  }
  for (auto& completion : done) completion();
}

void IronwalIo::ReportFailure(const absl::Status& status) {
  if (failure_reported_) return;
  failure_reported_ = true;
  SetErrmsg(io_.errmsg, status);
  if (on_failure_) on_failure_(status);
}

}  // namespace raft
}  // namespace ironwal
