// A real component that traps: the built core module with one export's body replaced by
// `unreachable` (binaryen), so that calling it raises a genuine `WebAssembly.RuntimeError`
// from inside the component. Shared by the Node and Chromium fail-open tests.
import { readFileSync } from 'node:fs';
import binaryen from 'binaryen';

const CORE = new URL('../dist/tracing.core.wasm', import.meta.url);

/**
 * The core module's bytes with `func` (`pipeline#force-flush`, `recorder#reserve-roots`,
 * ...) trapping: at once, or once it has been called `after` times (a counter in a new
 * global, the original body called until then).
 */
export function trappingCore(func, { after = 0 } = {}) {
  const mod = binaryen.readBinary(readFileSync(CORE));
  try {
    mod.setFeatures(binaryen.Features.All);
    const name = `wasm-otlp:tracing/${func.replace('#', '@0.1.0#')}`;
    const original = binaryen.getExportInfo(mod.getExport(name)).value;
    const { params, results } = binaryen.getFunctionInfo(mod.getFunction(original));
    const { i32 } = binaryen;
    mod.addGlobal('trap_calls', i32, true, mod.i32.const(0));
    const args = binaryen.expandType(params).map((type, i) => mod.local.get(i, type));
    const body = mod.block(null, [
      mod.if(mod.i32.ge_u(mod.global.get('trap_calls', i32), mod.i32.const(after)), mod.unreachable()),
      mod.global.set('trap_calls', mod.i32.add(mod.global.get('trap_calls', i32), mod.i32.const(1))),
      mod.return(mod.call(original, args, results)),
    ], results);
    mod.removeExport(name);
    mod.addFunction('trap', params, results, [], body);
    mod.addFunctionExport('trap', name);
    return mod.emitBinary();
  } finally {
    mod.dispose();
  }
}
