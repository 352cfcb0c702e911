// A small program built against @ironwal//ironwal: appends three orders to the stream
// "orders" of the WAL at ROOT (an absolute path; created if missing) and prints every
// entry of the stream.
//
//   bazel run //:orders -- /tmp/orders-wal
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>

#include "ironwal/ironwal.h"

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    std::cerr << "usage: orders ROOT   (an absolute path)\n";
    return 2;
  }
  ironwal::WalOptions options;
  options.root = argv[1];
  absl::StatusOr<std::unique_ptr<ironwal::Wal>> wal = ironwal::Wal::Open(options);
  if (!wal.ok()) {
    std::cerr << wal.status() << "\n";
    return 1;
  }
  absl::StatusOr<ironwal::IdRange> ids =
      (*wal)->AppendBatch("orders", {"order: 2 apples", "order: 1 pear", "order: 5 plums"});
  if (!ids.ok()) {
    std::cerr << ids.status() << "\n";
    return 1;
  }
  std::cout << "appended IDs [" << ids->first << ", " << ids->end << ")\n";
  absl::StatusOr<std::unique_ptr<ironwal::Iterator>> it = (*wal)->NewIterator("orders", 0);
  if (!it.ok()) {
    std::cerr << it.status() << "\n";
    return 1;
  }
  for (; (*it)->Valid(); (*it)->Next()) std::cout << (*it)->id() << "\t" << (*it)->value() << "\n";
  if (!(*it)->status().ok()) {
    std::cerr << (*it)->status() << "\n";
    return 1;
  }
  const absl::Status closed = (*wal)->Close();
  if (!closed.ok()) {
    std::cerr << closed << "\n";
    return 1;
  }
  return 0;
}
