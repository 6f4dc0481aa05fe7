#include "autograd/node.h"

namespace tl {

Node::~Node() {
  std::vector<std::shared_ptr<Node>> pending;
  auto steal = [&pending](std::vector<Edge>& edges) {
    for (Edge& e : edges)
      if (e.fn && e.fn.use_count() == 1) pending.push_back(std::move(e.fn));
  };
  steal(next);
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n->release_saved();  // saved tensors may hold the next node too
    steal(n->next);
  }  // n dies here with no edges left to recurse into
}

}  // namespace tl
