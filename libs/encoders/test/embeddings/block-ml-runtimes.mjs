// Module resolution hooks (node:module `register`) that refuse every ML runtime and the image
// library: a process under them fails as soon as anything imports one.
const BLOCKED = /^(onnxruntime-node|onnxruntime-common|@tensorflow\/|sharp$)/;

export async function resolve(specifier, context, nextResolve) {
  if (BLOCKED.test(specifier)) throw new Error(`blocked import of ${specifier}`);
  return nextResolve(specifier, context);
}
