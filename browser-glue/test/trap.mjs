// A real component that traps: the built core module with one export's body replaced by
// `unreachable` (binaryen), so that calling it raises a genuine `WebAssembly.RuntimeError`
// from inside the component. Shared by the Node and Chromium fail-open tests.
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';

const CORE = new URL('../dist/tracing.core.wasm', import.meta.url);

/** The core module's bytes with `func` (`pipeline#force-flush`, `recorder#reserve-roots`, ...) trapping. */
export function trappingCore(func) {
  const mod = binaryen.readBinary(readFileSync(CORE));
  try {
    mod.setFeatures(binaryen.Features.All);
    const name = `wasm-otlp:tracing/${func.replace('#', '@0.1.0#')}`;
    const target = binaryen.getFunctionInfo(mod.getFunction(binaryen.getExportInfo(mod.getExport(name)).value));
    mod.removeExport(name);
    mod.addFunction('trap', target.params, target.results, [], mod.unreachable());
    mod.addFunctionExport('trap', name);
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
