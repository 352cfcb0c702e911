// File: ironwal/cli/stream_wiring.h
//
// What Stream::Recover needs to open one stream at a time (ls reports each stream on its
// own, repair touches only the streams it repairs), wired as Wal::Open wires it.
//
// Thread-safety: one thread at a time.
#ifndef IRONWAL_CLI_STREAM_WIRING_H_
#define IRONWAL_CLI_STREAM_WIRING_H_

#include <string>

#include "ironwal/env/env.h"
#include "ironwal/format/format.h"
#include "ironwal/stream/reader_cache.h"
#include "ironwal/stream/stream.h"
#include "ironwal/stream/writer_budget.h"

namespace ironwal {
namespace cli {

struct StreamWiring {
  StreamWiring(const std::string& root, bool read_only, CorruptionPolicy policy)
      : readers(16), writers(16) {
    shared.options.env = Env::Default();
    shared.options.root = root;
    shared.options.max_entry_size = format::kMaxEntrySize;
    shared.options.on_corruption = policy;
    shared.options.read_only = read_only;
    shared.readers = &readers;
    shared.writers = &writers;
  }
  StreamWiring(const StreamWiring&) = delete;
  StreamWiring& operator=(const StreamWiring&) = delete;

  ReaderCache readers;
  WriterBudget writers;
  Stream::Shared shared;
};

}  // namespace cli
}  // namespace ironwal

#endif  // IRONWAL_CLI_STREAM_WIRING_H_
