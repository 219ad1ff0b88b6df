import { init, backend, crossEntropy } from "xent";

export default {
  async fetch() {
    await init(); // instantiates the modules workerd compiled when it loaded the worker
    const loss = crossEntropy([2, 0], new Float32Array([1, 2, 3, 3, 2, 1]), { classes: 3 });
    return Response.json({ backend: backend(), loss });
  },
};
