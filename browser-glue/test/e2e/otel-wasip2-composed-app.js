// The page for the wasi:otel example guest built for wasm32-wasip2, composed with the
// tracing component with `--wasi` (`just compose`, transpiled by jco into
// gen/otel-wasip2-composed/ by `just transpile-composed`). It imports what std on WASI 0.2
// and its SDK use (cli, io, the wall clock, random): jco's browser shims give them all.
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import { instantiate } from 'composition';
import { otelGuestApp } from './otel-guest-page.js';

otelGuestApp(instantiate, new WASIShim().getImportObject());
