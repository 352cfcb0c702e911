// raft_node: one server of a Canonical raft cluster (libraft 0.15) whose log is an ironwal
// Wal (IronwalIo), or, with --storage=uv, libraft's own libuv storage (for comparison).
// The state machine is a list of text commands; clients talk to it with the line protocol
// of client.h on --client-port.
//
//   raft_node --id=1 --dir=/tmp/n1 --cluster=127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003
//             --client-port=9101 [--storage=ironwal|uv] [--election-timeout-ms=1000]
//             [--heartbeat-ms=100] [--snapshot-threshold=N --snapshot-trailing=N]
//             [--fail-fsync-after=N] [--preallocate-bytes=N]
//
// Every server is bootstrapped with the same configuration (the --cluster list; server i
// has id i); a server that has state already ignores that. SIGTERM or SIGINT close it
// cleanly; SIGKILL is what crash tests use. --fail-fsync-after=N makes the N-th fsync of
// the Wal fail with EIO (FaultInjectionEnv), to test fail-stop: the server then exits
// with status 3 and never serves again from that process.
// raft.h and raft/uv.h declare no C linkage of their own.
extern "C" {
#include <raft.h>
#include <raft/uv.h>
}
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include "ironwal/env/fault_injection_env.h"
#include "ironwal/ironwal.h"
#include "ironwal/raft/ironwal_io.h"
#include "ironwal/raft/raft_storage.h"

namespace ironwal {
namespace raft {
namespace {

struct NodeOptions {
  uint64_t id = 0;
  std::string dir;
  std::vector<std::string> cluster;
  int client_port = 0;
  std::string storage = "ironwal";
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_ms = 100;
  unsigned snapshot_threshold = 0;  // 0: libraft's default
  unsigned snapshot_trailing = 0;
  uint64_t fail_fsync_after = 0;
  // RaftStorageOptions::preallocate_bytes (ironwal storage only).
  uint64_t preallocate_bytes = RaftStorageOptions::kDefaultPreallocateBytes;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr, "raft_node: %s\n(see the header of ironwal/raft/raft_node.cc)\n",
               why.c_str());
  std::exit(2);
}

NodeOptions ParseFlags(int argc, char** argv) {
  NodeOptions o;
  for (int i = 1; i < argc; ++i) {
    std::pair<std::string, std::string> kv = absl::StrSplit(argv[i], absl::MaxSplits('=', 1));
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    bool ok = true;
    if (k == "--id")
      ok = absl::SimpleAtoi(v, &o.id);
    else if (k == "--dir")
      o.dir = v;
    else if (k == "--cluster")
      o.cluster = absl::StrSplit(v, ',');
    else if (k == "--client-port")
      ok = absl::SimpleAtoi(v, &o.client_port);
    else if (k == "--storage")
      o.storage = v;
    else if (k == "--election-timeout-ms")
      ok = absl::SimpleAtoi(v, &o.election_timeout_ms);
    else if (k == "--heartbeat-ms")
      ok = absl::SimpleAtoi(v, &o.heartbeat_ms);
    else if (k == "--snapshot-threshold")
      ok = absl::SimpleAtoi(v, &o.snapshot_threshold);
    else if (k == "--snapshot-trailing")
      ok = absl::SimpleAtoi(v, &o.snapshot_trailing);
    else if (k == "--fail-fsync-after")
      ok = absl::SimpleAtoi(v, &o.fail_fsync_after);
    else if (k == "--preallocate-bytes")
      ok = absl::SimpleAtoi(v, &o.preallocate_bytes);
    else
      Usage("unknown flag " + k);
    if (!ok) Usage("bad value for " + k);
  }
  if (o.id == 0 || o.id > o.cluster.size()) Usage("--id must name a server of --cluster");
  if (o.dir.empty() || o.client_port == 0) Usage("--dir and --client-port are required");
  if (o.storage != "ironwal" && o.storage != "uv") Usage("--storage is ironwal or uv");
  return o;
}

// The state machine: the applied commands, in order.
struct Fsm {
  struct raft_fsm fsm;
  std::vector<std::string> commands;
};

int FsmApply(struct raft_fsm* fsm, const struct raft_buffer* buf, void** result) {
  Fsm* self = static_cast<Fsm*>(fsm->data);
  std::string text(static_cast<const char*>(buf->base), buf->len);
  text.erase(text.find_last_not_of('\0') + 1);  // the padding to 8 bytes
  self->commands.push_back(std::move(text));
  *result = reinterpret_cast<void*>(static_cast<uintptr_t>(self->commands.size()));
  return 0;
}

int FsmSnapshot(struct raft_fsm* fsm, struct raft_buffer* bufs[], unsigned* n_bufs) {
  Fsm* self = static_cast<Fsm*>(fsm->data);
  std::string out;
  for (const std::string& c : self->commands) absl::StrAppend(&out, c.size(), ":", c);
  *bufs = static_cast<struct raft_buffer*>(raft_malloc(sizeof(struct raft_buffer)));
  (*bufs)[0].len = out.size();
  (*bufs)[0].base = raft_malloc(out.size() + 1);
  std::memcpy((*bufs)[0].base, out.data(), out.size());
  *n_bufs = 1;
  return 0;
}

int FsmRestore(struct raft_fsm* fsm, struct raft_buffer* buf) {
  Fsm* self = static_cast<Fsm*>(fsm->data);
  std::string in(static_cast<const char*>(buf->base), buf->len);
  raft_free(buf->base);
  std::vector<std::string> commands;
  for (size_t pos = 0; pos < in.size();) {
    size_t colon = in.find(':', pos);
    size_t len = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(in.substr(pos, colon - pos), &len) ||
        colon + 1 + len > in.size()) {
      return RAFT_MALFORMED;
    }
    commands.push_back(in.substr(colon + 1, len));
    pos = colon + 1 + len;
  }
  self->commands = std::move(commands);
  return 0;
}

struct Node;

struct Conn {
  uv_tcp_t tcp;
  Node* node = nullptr;
  std::string in;
  int pending = 0;
  bool closing = false;
  bool closed = false;
};

struct ApplyReq {
  struct raft_apply req;
  Conn* conn;
};

struct WriteReq {
  uv_write_t req;
  std::string data;
};

struct Node {
  NodeOptions options;
  uv_loop_t loop;
  struct raft_uv_transport transport;
  struct raft_io uv_io;
  std::unique_ptr<FaultInjectionEnv> fault_env;
  std::unique_ptr<IronwalIo> ironwal_io;
  struct raft_io* io = nullptr;
  Fsm fsm;
  struct raft raft;
  uv_tcp_t server;
  uv_signal_t sigterm;
  uv_signal_t sigint;
  bool closing = false;
  std::set<Conn*> conns;  // open client connections
};

void MaybeFree(Conn* c) {
  if (c->closed && c->pending == 0) delete c;
}

void Reply(Conn* c, std::string text) {
  if (c->closing) return;
  auto* w = new WriteReq;
  w->data = std::move(text);
  uv_buf_t buf = uv_buf_init(&w->data[0], static_cast<unsigned>(w->data.size()));
  int rv = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&c->tcp), &buf, 1,
                    [](uv_write_t* req, int) { delete reinterpret_cast<WriteReq*>(req); });
  if (rv != 0) delete w;
}

void CloseConn(Conn* c) {
  if (c->closing) return;
  c->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), [](uv_handle_t* h) {
    Conn* c = static_cast<Conn*>(h->data);
    c->node->conns.erase(c);
    c->closed = true;
    MaybeFree(c);
  });
}

const char* StateName(int state) {
  switch (state) {
    case RAFT_LEADER:
      return "leader";
    case RAFT_FOLLOWER:
      return "follower";
    case RAFT_CANDIDATE:
      return "candidate";
    default:
      return "unavailable";
  }
}

void HandlePut(Conn* c, const std::string& text) {
  Node* n = c->node;
  if (n->closing || raft_state(&n->raft) != RAFT_LEADER) {
    raft_id leader = 0;
    const char* address = nullptr;
    raft_leader(&n->raft, &leader, &address);
    Reply(c, absl::StrCat("NOTLEADER ", leader, "\n"));
    return;
  }
  struct raft_buffer buf;
  buf.len = (text.size() + 8) / 8 * 8;  // libraft's uv transport wants 8-byte multiples
  buf.base = raft_calloc(1, buf.len);
  std::memcpy(buf.base, text.data(), text.size());
  auto* a = new ApplyReq;
  a->conn = c;
  a->req.data = a;
  ++c->pending;
  int rv =
      raft_apply(&n->raft, &a->req, &buf, 1, [](struct raft_apply* req, int status, void* result) {
        auto* a = static_cast<ApplyReq*>(req->data);
        Conn* c = a->conn;
        --c->pending;
        if (status == 0) {
          Reply(c, absl::StrCat("OK ", reinterpret_cast<uintptr_t>(result), "\n"));
        } else {
          Reply(c, absl::StrCat("ERR ", raft_strerror(status), "\n"));
        }
        delete a;
        MaybeFree(c);
      });
  if (rv != 0) {
    --c->pending;
    delete a;
    Reply(c, absl::StrCat("ERR ", raft_strerror(rv), "\n"));
  }
}

void HandleLine(Conn* c, const std::string& line) {
  Node* n = c->node;
  if (line.rfind("PUT ", 0) == 0) {
    HandlePut(c, line.substr(4));
  } else if (line == "READ") {
    std::string out = absl::StrCat("ENTRIES ", n->fsm.commands.size(), "\n");
    for (const std::string& cmd : n->fsm.commands) absl::StrAppend(&out, cmd, "\n");
    Reply(c, std::move(out));
  } else if (line == "STATUS") {
    raft_id leader = 0;
    const char* address = nullptr;
    raft_leader(&n->raft, &leader, &address);
    Reply(c, absl::StrCat("STATE ", StateName(raft_state(&n->raft)), " LEADER ", leader, " TERM ",
                          n->raft.current_term, " APPLIED ", raft_last_applied(&n->raft), " LAST ",
                          raft_last_index(&n->raft), " COMMANDS ", n->fsm.commands.size(),
                          " STORED ", n->raft.last_stored, "\n"));
  } else {
    Reply(c, "ERR unknown request\n");
  }
}

void OnRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  Conn* c = static_cast<Conn*>(stream->data);
  if (nread < 0) {
    CloseConn(c);
  } else if (nread > 0) {
    c->in.append(buf->base, nread);
    for (size_t nl; (nl = c->in.find('\n')) != std::string::npos;) {
      std::string line = c->in.substr(0, nl);
      c->in.erase(0, nl + 1);
      HandleLine(c, line);
    }
  }
  std::free(buf->base);
}

void OnConnection(uv_stream_t* server, int status) {
  Node* n = static_cast<Node*>(server->data);
  if (status != 0 || n->closing) return;
  auto* c = new Conn;
  c->node = n;
  uv_tcp_init(&n->loop, &c->tcp);
  c->tcp.data = c;
  n->conns.insert(c);
  if (uv_accept(server, reinterpret_cast<uv_stream_t*>(&c->tcp)) != 0) {
    CloseConn(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&c->tcp),
      [](uv_handle_t*, size_t size, uv_buf_t* buf) {
        *buf = uv_buf_init(static_cast<char*>(std::malloc(size)), static_cast<unsigned>(size));
      },
      OnRead);
}

void Shutdown(Node* n) {
  if (n->closing) return;
  n->closing = true;
  raft_close(&n->raft, [](struct raft* r) {
    Node* n = static_cast<Node*>(r->data);
    uv_close(reinterpret_cast<uv_handle_t*>(&n->server), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&n->sigterm), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&n->sigint), nullptr);
    std::vector<Conn*> open(n->conns.begin(), n->conns.end());
    for (Conn* c : open) CloseConn(c);
  });
}

void Die(const std::string& what) {
  std::fprintf(stderr, "raft_node: %s\n", what.c_str());
  std::exit(1);
}

void SetUpIo(Node* n) {
  const NodeOptions& o = n->options;
  const std::string uv_dir = o.dir + (o.storage == "uv" ? "/uv" : "/uv-transport");
  ::mkdir(o.dir.c_str(), 0755);
  ::mkdir(uv_dir.c_str(), 0755);
  if (raft_uv_tcp_init(&n->transport, &n->loop) != 0) Die("raft_uv_tcp_init failed");
  if (raft_uv_init(&n->uv_io, &n->loop, uv_dir.c_str(), &n->transport) != 0) {
    Die("raft_uv_init " + uv_dir + ": " + n->uv_io.errmsg);
  }
  if (o.storage == "uv") {
    n->io = &n->uv_io;
    return;
  }
  IronwalIoOptions io_options;
  io_options.storage.dir = o.dir;
  io_options.storage.preallocate_bytes = o.preallocate_bytes;
  if (o.fail_fsync_after > 0) {
    n->fault_env = std::make_unique<FaultInjectionEnv>(Env::Default());
    FaultRule rule;
    rule.op = SimOp::kSync;
    rule.fault = SimFault::kIoError;
    rule.path_pattern = o.dir + "/wal/*";
    rule.nth = o.fail_fsync_after;
    n->fault_env->AddFaultRule(rule);
    io_options.storage.env = n->fault_env.get();
  }
  const uint64_t id = o.id;
  io_options.on_failure = [id](const absl::Status& status) {
    // Fail-stop: nothing more is written or served by this process.
    std::fprintf(stderr, "raft_node %" PRIu64 ": fail-stop after a storage error: %s\n", id,
                 std::string(status.message()).c_str());
    std::fflush(stderr);
    ::_exit(3);
  };
  absl::StatusOr<std::unique_ptr<IronwalIo>> io =
      IronwalIo::Create(&n->loop, &n->uv_io, io_options);
  if (!io.ok()) Die(std::string(io.status().message()));
  n->ironwal_io = *std::move(io);
  n->io = n->ironwal_io->io();
}

void StartRaft(Node* n) {
  const NodeOptions& o = n->options;
  std::memset(&n->fsm.fsm, 0, sizeof(n->fsm.fsm));
  n->fsm.fsm.version = 1;
  n->fsm.fsm.data = &n->fsm;
  n->fsm.fsm.apply = FsmApply;
  n->fsm.fsm.snapshot = FsmSnapshot;
  n->fsm.fsm.restore = FsmRestore;
  const std::string& address = o.cluster[o.id - 1];
  if (raft_init(&n->raft, n->io, &n->fsm.fsm, o.id, address.c_str()) != 0) {
    Die(std::string("raft_init: ") + raft_errmsg(&n->raft));
  }
  n->raft.data = n;
  raft_set_election_timeout(&n->raft, o.election_timeout_ms);
  raft_set_heartbeat_timeout(&n->raft, o.heartbeat_ms);
  if (o.snapshot_threshold > 0) {
    raft_set_snapshot_threshold(&n->raft, o.snapshot_threshold);
    raft_set_snapshot_trailing(&n->raft, o.snapshot_trailing);
  }
  struct raft_configuration conf;
  raft_configuration_init(&conf);
  for (size_t i = 0; i < o.cluster.size(); ++i) {
    raft_configuration_add(&conf, i + 1, o.cluster[i].c_str(), RAFT_VOTER);
  }
  int rv = raft_bootstrap(&n->raft, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) Die(std::string("bootstrap: ") + raft_errmsg(&n->raft));
  if (raft_start(&n->raft) != 0) Die(std::string("raft_start: ") + raft_errmsg(&n->raft));
}

void ListenForClients(Node* n) {
  uv_tcp_init(&n->loop, &n->server);
  n->server.data = n;
  sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", n->options.client_port, &addr);
  if (uv_tcp_bind(&n->server, reinterpret_cast<const sockaddr*>(&addr), 0) != 0 ||
      uv_listen(reinterpret_cast<uv_stream_t*>(&n->server), 128, OnConnection) != 0) {
    Die(absl::StrCat("listen on 127.0.0.1:", n->options.client_port, " failed"));
  }
  for (uv_signal_t* s : {&n->sigterm, &n->sigint}) {
    uv_signal_init(&n->loop, s);
    s->data = n;
  }
  auto on_signal = [](uv_signal_t* s, int) { Shutdown(static_cast<Node*>(s->data)); };
  uv_signal_start(&n->sigterm, on_signal, SIGTERM);
  uv_signal_start(&n->sigint, on_signal, SIGINT);
}

int Main(int argc, char** argv) {
  auto n = std::make_unique<Node>();
  n->options = ParseFlags(argc, argv);
  // A peer that died leaves sockets whose next write raises SIGPIPE: take EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  uv_loop_init(&n->loop);
  SetUpIo(n.get());
  StartRaft(n.get());
  ListenForClients(n.get());
  std::fprintf(stderr, "raft_node %" PRIu64 ": serving (%s storage)\n", n->options.id,
               n->options.storage.c_str());
  uv_run(&n->loop, UV_RUN_DEFAULT);
  n->ironwal_io.reset();
  raft_uv_close(&n->uv_io);
  raft_uv_tcp_close(&n->transport);
  uv_loop_close(&n->loop);
  return 0;
}

}  // namespace
}  // namespace raft
}  // namespace ironwal

int main(int argc, char** argv) { return ironwal::raft::Main(argc, argv); }
