# workerd serve config.capnp: worker.js (the worker bundled, its .wasm imports kept as imports of
# files beside it) and the two .wasm files it imports, listed as wasm modules: workerd compiles
# them when it loads the worker, as Cloudflare does for modules uploaded with a worker.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "xent.simd.wasm", wasm = embed "xent.simd.wasm"),
    (name = "xent.wasm", wasm = embed "xent.wasm"),
  ],
  compatibilityDate = "2025-01-01",
);
