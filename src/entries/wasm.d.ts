// Imports of .wasm files in the workerd entry: workerd (and wrangler) give a compiled module.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
